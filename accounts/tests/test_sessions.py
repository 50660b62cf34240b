"""Sessions end together: a password change, a deactivation or logout-all stops every token of
the user at once, on the hot path (the cached JWT authentication, its fast path) and the DRF path
alike, and no refresh token of the user rotates any more."""

import pytest
from django.contrib import admin
from django.contrib.auth.hashers import make_password
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_deactivate
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-whole-new-passphrase-42"
ACCESS = "/api/me/access"  # the fast path (BearerGetFastPath + CachedJWTAuthentication)
ME = "/api/me"  # DRF's dispatch with MemoizedJWTAuthentication


def login(email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = APIClient().post(
        "/api/auth/token", {"email": email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post("/api/auth/token/refresh", {"refresh": token}, format="json")


def assert_session_works(tokens: dict) -> None:
    client = bearer(tokens["access"])
    assert client.get(ACCESS).status_code == 200
    assert client.get(ME).status_code == 200


def assert_session_ended(tokens: dict) -> None:
    client = bearer(tokens["access"])
    for path in (ACCESS, ME):
        response = client.get(path)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["error"]["code"] in {"token_not_valid", "authentication_failed"}
    response = refresh(tokens["refresh"])
    assert response.status_code == 401, response.content
    assert set(response.json()) == {"error"}


@pytest.fixture
def session(learner) -> dict:
    """A logged-in learner whose hot-path cache entry is warm."""
    tokens = login(learner.email)
    assert_session_works(tokens)
    assert_session_works(tokens)
    return tokens


def test_a_password_change_ends_every_session(learner, session):
    other = login(learner.email)

    learner.set_password(NEW_PASSWORD)
    learner.save()

    assert_session_ended(session)
    assert_session_ended(other)
    assert_session_works(login(learner.email, NEW_PASSWORD))


def test_a_rotated_refresh_token_dies_with_the_password_too(learner, session):
    rotated = refresh(session["refresh"]).json()
    assert_session_works(rotated)

    learner.set_password(NEW_PASSWORD)
    learner.save()

    assert_session_ended(rotated)


def test_logout_all_ends_every_session_of_the_user_and_only_theirs(learner, session):
    second = login(learner.email)
    someone_else = UserFactory()
    theirs = login(someone_else.email)

    response = bearer(second["access"]).post("/api/auth/logout-all")

    assert response.status_code == 204
    assert_session_ended(session)
    assert_session_ended(second)
    assert_session_works(theirs)
    assert_session_works(login(learner.email))


def test_logout_all_needs_an_access_token():
    response = APIClient().post("/api/auth/logout-all")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_deactivation_ends_every_session_even_after_reactivation(learner, session):
    user_deactivate(user=learner)
    assert_session_ended(session)

    learner.is_active = True
    learner.save()

    assert_session_ended(session)
    assert_session_works(login(learner.email))


def test_deactivating_in_the_admin_ends_every_session(learner, session, admin_client, admin_user):
    url = f"/admin/accounts/user/{learner.pk}/change/"
    # The change form's initial data, from the admin's own form class (rendering the page is not
    # what is tested, and SecantusDB drops the permission widget's select_related content types).
    request = RequestFactory().get(url)
    request.user = admin_user
    form = admin.site.get_model_admin(User).get_form(request, obj=learner)(instance=learner)
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(is_active="", date_joined_0="2026-01-01", date_joined_1="00:00:00")
    data = {k: v for k, v in data.items() if k not in {"is_active", "groups", "user_permissions"}}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    learner.refresh_from_db()
    learner.is_active = True
    learner.save()
    assert_session_ended(session)


def test_a_password_hash_upgrade_at_login_is_not_a_password_change(settings):
    """Logging in with a hash of a non-preferred hasher rewrites the hash: sessions go on."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(
        password=make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
    )
    first = login(user.email)  # the hash is upgraded to MD5 here

    user.refresh_from_db()
    assert user.password.startswith("md5$")
    assert_session_works(first)
    assert_session_works(login(user.email))
