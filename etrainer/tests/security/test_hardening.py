"""CORS from the environment, production-only hardening, and the rate-limit cache check."""

import pytest
from rest_framework.test import APIClient

from etrainer.tests.subprocess_env import manage, production_env

ORIGIN = "https://app.etrainer.example"


@pytest.fixture
def cors_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]


@pytest.mark.django_db
def test_an_allowed_origin_gets_cors_headers_even_on_a_429(cors_origin, tiny_limits):
    client = APIClient()
    for _ in range(tiny_limits):
        client.get("/api/me", HTTP_ORIGIN=ORIGIN)

    limited = client.get("/api/me", HTTP_ORIGIN=ORIGIN)

    assert limited.status_code == 429
    assert limited["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.django_db
def test_an_unknown_origin_gets_no_cors_headers(cors_origin):
    response = APIClient().get("/api/me", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_from_an_allowed_origin_is_answered(cors_origin):
    response = APIClient().options(
        "/api/auth/token",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in response["Access-Control-Allow-Headers"]


@pytest.mark.slow
def test_production_refuses_a_cache_that_cannot_share_rate_limits(tmp_path):
    """Without REDIS_URL the cache is per process: limits would multiply by the process count."""
    env = production_env(tmp_path)
    env["REDIS_URL"] = ""

    result = manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "ratelimit.E002" in result.stderr


@pytest.mark.slow
def test_production_security_settings(tmp_path):
    env = production_env(tmp_path)
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SIMPLE_JWT['ROTATE_REFRESH_TOKENS'], s.SIMPLE_JWT['BLACKLIST_AFTER_ROTATION'], "
        "s.SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds(), len(s.AUTH_PASSWORD_VALIDATORS), "
        "'ratelimit.E002' in s.SILENCED_SYSTEM_CHECKS, s.CORS_ALLOW_ALL_ORIGINS)"
    )

    result = manage("shell", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "31536000", "True", "True", "True", "True", "900.0", "4", "False", "False",
    ]  # fmt: skip


@pytest.mark.slow
def test_production_believes_no_forwarded_for_unless_the_proxies_are_listed(tmp_path):
    """A client on a private address (another container, a VPN peer) names no rate-limit key."""
    env = production_env(tmp_path)
    env.pop("RATELIMIT_TRUSTED_PROXIES", None)
    code = (
        "from django.test import RequestFactory; from etrainer.ratelimit import client_ip; "
        "rf = RequestFactory(); "
        "print(client_ip(rf.get('/', REMOTE_ADDR='172.20.0.3', HTTP_X_FORWARDED_FOR='1.2.3.4')), "
        "client_ip(rf.get('/', REMOTE_ADDR='10.1.2.3', HTTP_X_FORWARDED_FOR='1.2.3.5')))"
    )

    unlisted = manage("shell", "-c", code, env=env)
    listed = manage("shell", "-c", code, env={**env, "RATELIMIT_TRUSTED_PROXIES": "172.20.0.0/16"})

    assert unlisted.returncode == 0, unlisted.stderr
    assert unlisted.stdout.strip().splitlines()[-1].split() == ["172.20.0.3", "10.1.2.3"]
    assert listed.stdout.strip().splitlines()[-1].split() == ["1.2.3.4", "10.1.2.3"]
