"""Shared fixtures: the run's real redis-server, API clients and users."""

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_migrate
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import StaffFactory, UserFactory
from etrainer.redis_breaker import breaker
from testsupport.plugin import session_redis_server


@pytest.fixture
def redis_server():
    """The test run's redis-server. A test may stop or pause it; it is running again afterwards."""
    server = session_redis_server()
    yield server
    server.ensure_running()
    breaker.reset()


@pytest.fixture(scope="session", autouse=True)
def _mongodb_flush_restores_its_content_types(django_db_setup, django_db_blocker):
    """MongoDB has no transactions for Django's test cases, so every test ends with a flush, and
    Django then re-creates content types and permissions through post_migrate: about 30 queries,
    half a second a test on the lane's server. Here the rows migrate made are kept and put back
    after each flush in two inserts (same ids), which is the state every SQL test starts from."""
    if connection.vendor != "mongodb":
        yield
        return
    with django_db_blocker.unblock():
        content_types = list(ContentType.objects.all())
        permissions = list(Permission.objects.all())

    def restore(sender, using, **kwargs):
        if not ContentType.objects.using(using).exists():
            ContentType.objects.using(using).bulk_create(content_types)
            Permission.objects.using(using).bulk_create(permissions)
        ContentType.objects.clear_cache()

    post_migrate.disconnect(create_contenttypes)
    post_migrate.disconnect(dispatch_uid="django.contrib.auth.management.create_permissions")
    post_migrate.connect(restore, sender=apps.get_app_config("contenttypes"), weak=False)
    yield
    post_migrate.disconnect(restore, sender=apps.get_app_config("contenttypes"))
    post_migrate.connect(create_contenttypes)
    post_migrate.connect(
        create_permissions, dispatch_uid="django.contrib.auth.management.create_permissions"
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    breaker.reset()
    yield
    breaker.reset()
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return StaffFactory()


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def learner_client(learner) -> APIClient:
    return bearer_client(learner)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return bearer_client(staff_user)
