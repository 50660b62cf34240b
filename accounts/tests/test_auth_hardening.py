"""JWT rotation and revocation, logout, and the per-account failed-login lock."""

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from rest_framework.test import APIClient

from accounts.login_limits import login_failures_purge
from accounts.models import LoginFailure, RevokedToken
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


def test_failed_logins_lock_the_account_from_that_address_with_429_and_retry_after(
    api_client, lock_after_three
):
    UserFactory(email="target@example.com")
    for _ in range(lock_after_three):
        wrong = obtain(api_client, "target@example.com", "guess", REMOTE_ADDR="192.0.2.1")
        assert wrong.status_code == 401

    locked = obtain(api_client, "Target@Example.com", REMOTE_ADDR="192.0.2.1")

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(locked["Retry-After"]) <= 15 * 60


def test_a_third_party_cannot_lock_the_owner_out_of_their_own_address(api_client, lock_after_three):
    # given a guesser who failed past the lock from their own address
    UserFactory(email="owner@example.com")
    for _ in range(lock_after_three + 2):
        obtain(api_client, "owner@example.com", "guess", REMOTE_ADDR="198.51.100.66")

    # then the guesser is locked, the owner logging in from home is not
    assert obtain(api_client, "owner@example.com", REMOTE_ADDR="198.51.100.66").status_code == 429
    assert obtain(api_client, "owner@example.com", REMOTE_ADDR="203.0.113.10").status_code == 200


def test_guessing_spread_over_many_addresses_meets_the_per_account_ceiling(
    api_client, lock_after_three, settings
):
    settings.RATELIMIT_LOGIN_FAILURES_ACCOUNT = "6/15m"
    UserFactory(email="spread@example.com")
    for n in range(6):
        # each guess from another address: neither the per-IP nor the pair limit stops them
        assert (
            obtain(
                api_client, "spread@example.com", "guess", REMOTE_ADDR=f"192.0.2.{n}"
            ).status_code
            == 401
        )

    locked = obtain(api_client, "spread@example.com", REMOTE_ADDR="192.0.2.99")

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 1


def test_one_address_trying_many_accounts_meets_the_per_address_ceiling(
    api_client, lock_after_three, settings
):
    settings.RATELIMIT_LOGIN_FAILURES_ADDRESS = "4/15m"
    UserFactory(email="other@example.com")
    for n in range(4):
        obtain(api_client, f"nobody{n}@example.com", "guess", REMOTE_ADDR="192.0.2.200")

    assert obtain(api_client, "other@example.com", REMOTE_ADDR="192.0.2.200").status_code == 429
    assert obtain(api_client, "other@example.com", REMOTE_ADDR="192.0.2.201").status_code == 200


def test_the_lock_is_per_account(api_client, lock_after_three):
    UserFactory(email="victim@example.com")
    UserFactory(email="bystander@example.com")
    for _ in range(lock_after_three):
        obtain(api_client, "victim@example.com", "guess", REMOTE_ADDR="192.0.2.5")

    assert obtain(api_client, "bystander@example.com", REMOTE_ADDR="192.0.2.50").status_code == 200


def test_successful_logins_do_not_count_towards_the_lock(api_client, lock_after_three):
    UserFactory(email="regular@example.com")
    for _ in range(lock_after_three + 1):
        ok = obtain(api_client, "regular@example.com", REMOTE_ADDR="192.0.2.3")
        assert ok.status_code == 200


def test_failed_logins_stay_limited_while_redis_is_down(
    api_client, lock_after_three, redis_server, settings
):
    """The per-IP request limit lets requests through with Redis down (RATELIMIT_FAIL_OPEN):
    the failed-login ceilings, counted in the database, are what still stop a guesser."""
    # given
    settings.RATELIMIT_LOGIN_FAILURES_ADDRESS = "5/15m"
    UserFactory(email="down@example.com")
    redis_server.stop()

    # when one address guesses one account, then others
    guesses = [
        obtain(api_client, "down@example.com", "guess", REMOTE_ADDR="192.0.2.8").status_code
        for _ in range(lock_after_three + 1)
    ]
    spread = [
        obtain(api_client, f"x{n}@example.com", "guess", REMOTE_ADDR="192.0.2.8").status_code
        for n in range(3)
    ]

    # then the lock holds, and so does the per-address ceiling, without Redis
    assert guesses == [401] * lock_after_three + [429]
    assert spread[-1] == 429
    assert obtain(api_client, "down@example.com", REMOTE_ADDR="192.0.2.9").status_code == 200


def test_a_locked_account_cannot_log_in_to_the_admin_either(lock_after_three):
    # given a staff account whose password was guessed wrong too often from one address
    StaffFactory(email="boss@example.com")
    client = APIClient()
    for _ in range(lock_after_three):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": "boss@example.com", "password": "guess"},
            REMOTE_ADDR="192.0.2.7",
        )

    # when the right password is used on the admin login form from that address
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss@example.com", "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="192.0.2.7",
    )

    # then the admin refuses it like a wrong password
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_failures_outside_every_window_are_purged(lock_after_three):
    for _ in range(2):
        assert authenticate(None, email="gone@example.com", password="guess") is None
    [first, _] = LoginFailure.objects.order_by("created_at")

    assert login_failures_purge(now=first.created_at) == 0
    assert login_failures_purge(now=first.created_at + dt.timedelta(days=1)) == 2


def test_the_admin_login_still_works_for_an_unlocked_account():
    StaffFactory(email="chief@example.com", is_superuser=True)
    client = APIClient()

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "chief@example.com", "password": DEFAULT_PASSWORD},
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"]
