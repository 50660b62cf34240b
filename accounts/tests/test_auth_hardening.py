"""JWT rotation and revocation, logout, and the per-account failed-login lock."""

import pytest
from django.contrib.auth import authenticate
from rest_framework.test import APIClient

from accounts.models import RevokedToken
from accounts.services import revoked_tokens_purge
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lock_after_three(settings):
    settings.RATELIMIT_LOGIN_FAILURES = "3/15m"
    return 3


def obtain(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(
        "/api/auth/token", {"email": email, "password": password}, format="json", **extra
    )


def refresh(client, token):
    return client.post("/api/auth/token/refresh", {"refresh": token}, format="json")


def logout(client, token):
    return client.post("/api/auth/logout", {"refresh": token}, format="json")


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(api_client):
    # given
    UserFactory(email="rot@example.com")
    first = obtain(api_client, "rot@example.com").json()["refresh"]

    # when
    rotated = refresh(api_client, first)

    # then
    assert rotated.status_code == 200
    second = rotated.json()["refresh"]
    assert second != first
    reused = refresh(api_client, first)
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    assert refresh(api_client, second).status_code == 200


def test_logout_revokes_the_refresh_token(api_client):
    UserFactory(email="out@example.com")
    token = obtain(api_client, "out@example.com").json()["refresh"]

    response = logout(api_client, token)

    assert response.status_code == 204
    refused = refresh(api_client, token)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_not_valid"


def test_logout_twice_is_harmless_and_needs_no_access_token(api_client):
    UserFactory(email="twice@example.com")
    token = obtain(api_client, "twice@example.com").json()["refresh"]
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired-or-garbage")

    assert logout(api_client, token).status_code == 204
    assert logout(api_client, token).status_code == 204
    assert RevokedToken.objects.count() == 1


@pytest.mark.parametrize("token", ["not-a-jwt", ""])
def test_logout_with_a_bad_token_answers_in_the_envelope(api_client, token):
    response = logout(api_client, token)

    assert response.status_code in (400, 401)
    assert response.json()["error"]["code"] in ("token_not_valid", "validation_error")


def test_logout_refuses_an_access_token(api_client):
    UserFactory(email="acc@example.com")
    access = obtain(api_client, "acc@example.com").json()["access"]

    assert logout(api_client, access).status_code == 401


def test_expired_revocations_are_purged(api_client):
    UserFactory(email="purge@example.com")
    logout(api_client, obtain(api_client, "purge@example.com").json()["refresh"])
    row = RevokedToken.objects.get()

    assert revoked_tokens_purge(now=row.expires_at) == 0
    assert revoked_tokens_purge(now=row.expires_at.replace(year=row.expires_at.year + 1)) == 1


def test_failed_logins_lock_the_account_with_429_and_retry_after(api_client, lock_after_three):
    UserFactory(email="target@example.com")
    for n in range(lock_after_three):
        # each guess from another address: the per-IP limit is not what stops them
        wrong = obtain(api_client, "target@example.com", "guess", REMOTE_ADDR=f"192.0.2.{n}")
        assert wrong.status_code == 401

    locked = obtain(api_client, "Target@Example.com", REMOTE_ADDR="192.0.2.99")

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert int(locked["Retry-After"]) >= 1


def test_the_lock_is_per_account(api_client, lock_after_three):
    UserFactory(email="victim@example.com")
    UserFactory(email="bystander@example.com")
    for n in range(lock_after_three):
        obtain(api_client, "victim@example.com", "guess", REMOTE_ADDR=f"192.0.2.{n}")

    assert obtain(api_client, "bystander@example.com", REMOTE_ADDR="192.0.2.50").status_code == 200


def test_successful_logins_do_not_count_towards_the_lock(api_client, lock_after_three):
    UserFactory(email="regular@example.com")
    for n in range(lock_after_three + 1):
        ok = obtain(api_client, "regular@example.com", REMOTE_ADDR=f"192.0.2.{n}")
        assert ok.status_code == 200


def test_a_locked_account_cannot_log_in_to_the_admin_either(lock_after_three):
    # given a staff account whose password was guessed wrong too often
    StaffFactory(email="boss@example.com")
    for _ in range(lock_after_three):
        assert authenticate(None, email="boss@example.com", password="guess") is None

    # when the right password is used on the admin login form
    client = APIClient()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss@example.com", "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="192.0.2.7",
    )

    # then the admin refuses it like a wrong password
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_admin_login_still_works_for_an_unlocked_account():
    StaffFactory(email="chief@example.com", is_superuser=True)
    client = APIClient()

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "chief@example.com", "password": DEFAULT_PASSWORD},
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"]
