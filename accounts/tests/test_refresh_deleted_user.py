"""A refresh token whose user was deleted (issue 17 item 7)."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import RevokedToken
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_refreshing_a_deleted_users_token_is_401_in_the_envelope(api_client):
    user = UserFactory()
    token = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post("/api/auth/token/refresh", {"refresh": token}, format="json")

    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "token_not_valid"
    assert not RevokedToken.objects.exists()
