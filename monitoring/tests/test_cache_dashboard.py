"""The admin cache dashboard against the run's real Redis."""

import pytest
import redis
from django.test import Client

from accounts.tests.factories import UserFactory
from subscriptions import cache as access_cache

pytestmark = pytest.mark.django_db

URL = "/admin/monitoring/cache/"


@pytest.fixture
def staff_browser(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def user_keys(redis_server, user_id) -> list[bytes]:
    raw = redis.Redis.from_url(redis_server.url)
    return sorted(
        key
        for family in access_cache.USER_FAMILIES
        for key in raw.scan_iter(match=access_cache.KEY_FAMILIES[family].format(user=user_id))
    )


def fill_user_families(user_id) -> None:
    for family in access_cache.USER_FAMILIES:
        access_cache.store(family, str(user_id), {"cached": family})


def test_dashboard_renders_redis_figures_and_families_for_staff(staff_browser, redis_server):
    fill_user_families("41")

    response = staff_browser.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="redis-memory"' in page
    dashboard = response.context["dashboard"]
    assert dashboard["redis"]["available"] is True
    counts = {family["name"]: family["keys"] for family in dashboard["families"]}
    assert counts == {
        "user": 1,
        "sub": 1,
        "ai": 1,
        "grants": 1,
        "course": 0,
        "plans": 0,
        "courses": 0,
    }


def test_non_staff_are_sent_to_the_login_page(learner):
    client = Client()
    client.force_login(learner)

    response = client.get(URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_invalidate_removes_exactly_that_users_keys(staff_browser, redis_server):
    # given
    target, other = UserFactory(), UserFactory()
    fill_user_families(target.pk)
    fill_user_families(other.pk)
    assert len(user_keys(redis_server, target.pk)) == 4
    others_before = user_keys(redis_server, other.pk)

    # when
    response = staff_browser.post(
        URL, {"action": "invalidate_user", "user": target.email}, follow=True
    )

    # then
    assert user_keys(redis_server, target.pk) == []
    assert user_keys(redis_server, other.pk) == others_before
    assert "Removed 4 cached key(s)" in response.content.decode()


def test_invalidate_family_makes_its_entries_misses(staff_browser, redis_server):
    fill_user_families("7")

    staff_browser.post(URL, {"action": "invalidate_family", "family": "sub"})

    lookup = access_cache.fetch("7", ["sub", "ai"])
    assert lookup.get("sub") is access_cache.MISS
    assert lookup.get("ai") == {"cached": "ai"}


def test_an_unknown_user_email_changes_nothing(staff_browser, redis_server):
    fill_user_families("9")

    response = staff_browser.post(
        URL, {"action": "invalidate_user", "user": "nobody@example.com"}, follow=True
    )

    assert "No user with email nobody@example.com" in response.content.decode()
    assert len(user_keys(redis_server, "9")) == 4


def test_dashboard_still_renders_when_redis_is_down(staff_browser, redis_server):
    redis_server.stop()

    response = staff_browser.get(URL)

    assert response.status_code == 200
    assert response.context["dashboard"]["redis"]["available"] is False
    page = response.content.decode()
    assert "Redis is not reachable" in page
    assert "keys scanned" not in page  # nothing was scanned: no "0 keys, stopped at the limit"


def test_with_the_local_memory_cache_the_dashboard_says_so_not_redis_down(staff_browser, settings):
    # given: `make run` without REDIS_URL
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }

    # when
    response = staff_browser.get(URL)

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "local-memory cache" in page
    assert "not reachable" not in page
    assert "errornote" not in page
    assert "keys scanned" not in page
    assert "scan limit" not in page
