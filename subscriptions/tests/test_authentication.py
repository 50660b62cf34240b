"""The hot-path authentication: a real User from the cache, safe to save, and token checks."""

import datetime as dt
import time

import pytest
from django.db.models.signals import post_init
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from etrainer.api.authentication import verified_tokens
from subscriptions.authentication import CachedJWTAuthentication
from subscriptions.request_context import request_lookup

pytestmark = pytest.mark.django_db


def _authenticate(token: str):
    request = APIRequestFactory().get("/api/me/access", HTTP_AUTHORIZATION=f"Bearer {token}")
    drf_request = Request(request)
    return CachedJWTAuthentication().authenticate(drf_request), drf_request


def test_cached_user_is_a_real_user_that_saves_only_its_loaded_fields(
    learner, django_assert_num_queries
):
    token = str(AccessToken.for_user(learner))
    _authenticate(token)

    with django_assert_num_queries(0):
        (user, _), request = _authenticate(token)

    assert isinstance(user, User)
    assert user.pk == learner.pk
    assert request_lookup(request).user_id == str(learner.pk)
    assert User.objects.filter(pk=user.pk).exists()
    user.first_name = "Renamed"
    user.save()
    learner.refresh_from_db()
    assert learner.first_name == "Renamed"
    assert learner.check_password("correct-horse-battery-staple")


def test_expired_token_is_refused_even_when_memoized(learner):
    token = AccessToken.for_user(learner)
    token.set_exp(lifetime=dt.timedelta(seconds=1))
    raw = str(token)
    _authenticate(raw)
    assert verified_tokens.get(raw.encode()) is not None

    time.sleep(1.5)

    assert verified_tokens.get(raw.encode()) is None
    with pytest.raises(InvalidToken):
        _authenticate(raw)


def test_cached_user_carries_the_flags(learner):
    learner.is_staff = True
    learner.save()
    token = str(AccessToken.for_user(learner))
    _authenticate(token)

    (user, _), _ = _authenticate(token)

    assert (user.is_active, user.is_staff, user.is_superuser) == (True, True, False)
    assert (user.email, user.role, user.timezone) == (learner.email, "learner", "UTC")


def test_no_header_is_not_this_class_business():
    request = APIRequestFactory().get("/api/me/access")
    assert CachedJWTAuthentication().authenticate(Request(request)) is None


def test_a_warm_access_check_never_builds_the_user_model(subscribed_learner, learner_client):
    """The summary needs only the id: the cached user is built on first use, and nothing uses it
    on /api/me/access. A view that does (the course check reads is_staff) gets a real user."""
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    learner_client.get("/api/me/access")  # warms the cache
    post_init.connect(count, sender=User)
    try:
        response = learner_client.get("/api/me/access")
    finally:
        post_init.disconnect(count, sender=User)

    assert response.status_code == 200
    assert response.json()["user"] == str(subscribed_learner.pk)
    assert built == []


def test_an_inactive_user_is_refused_from_the_cached_entry_as_from_the_row(
    learner, django_assert_num_queries
):
    token = str(AccessToken.for_user(learner))
    User.objects.filter(pk=learner.pk).update(is_active=False)

    with pytest.raises(AuthenticationFailed):
        _authenticate(token)  # cold: the row, then cached
    with django_assert_num_queries(0), pytest.raises(AuthenticationFailed):
        _authenticate(token)  # warm: the cached entry alone
