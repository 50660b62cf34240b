"""The hot-path authentication: a real User from the cache, safe to save, and token checks."""

import datetime as dt
import time

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from etrainer.api.authentication import CachedJWTAuthentication, verified_tokens
from subscriptions.selectors import LOOKUP_ATTR

pytestmark = pytest.mark.django_db


def _authenticate(token: str):
    request = APIRequestFactory().get("/api/me/access", HTTP_AUTHORIZATION=f"Bearer {token}")
    return CachedJWTAuthentication().authenticate(Request(request)), request


def test_cached_user_is_a_real_user_that_saves_only_its_loaded_fields(
    learner, django_assert_num_queries
):
    token = str(AccessToken.for_user(learner))
    _authenticate(token)

    with django_assert_num_queries(0):
        (user, _), request = _authenticate(token)

    assert isinstance(user, User)
    assert user.pk == learner.pk
    assert getattr(request, LOOKUP_ATTR).user_id == str(learner.pk)
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
