"""The public lists (/api/plans, /api/courses) from the cache, against the real redis-server."""

import time

import pytest
from django.test import RequestFactory
from django.utils import translation
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from subscriptions.list_cache import page_ident
from subscriptions.models import PendingInvalidation, Plan, PlanPrice
from subscriptions.tests.factories import CourseFactory, PlanFactory
from subscriptions.tests.test_cache import RedisCommandLog
from subscriptions.tests.test_lost_invalidation import after_the_bound, while_redis_hung

pytestmark = pytest.mark.django_db

PLANS = "/api/plans"
COURSES = "/api/courses"


@pytest.fixture(autouse=True)
def replay_bound(settings):
    settings.ACCESS_CACHE_REPLAY_SECONDS = 0.5


@pytest.fixture
def plans(db):
    return [PlanFactory(code=f"p{n}", tier=n) for n in range(3)]


@pytest.fixture
def courses(db):
    return [CourseFactory(code=f"c{n}", min_tier=n) for n in range(3)]


def same_response(first, second) -> None:
    """Status, body and every header but the request id."""
    assert first.status_code == second.status_code
    assert first.content == second.content
    headers = {k: v for k, v in first.headers.items() if k != "X-Request-ID"}
    assert headers == {k: v for k, v in second.headers.items() if k != "X-Request-ID"}


def codes(response) -> list[str]:
    return [item["code"] for item in response.json()["results"]]


def test_a_plan_list_hit_is_the_uncached_response_without_a_query(
    plans, api_client, django_assert_num_queries
):
    uncached = api_client.get(PLANS + "?page_size=2")

    with django_assert_num_queries(0):
        cached = api_client.get(PLANS + "?page_size=2")

    same_response(uncached, cached)
    assert cached["Content-Type"] == "application/json"
    assert "Cookie" in cached["Vary"]  # the session was looked at, as DRF does
    assert cached.json()["next"] == "http://testserver/api/plans?page=2&page_size=2"
    assert codes(cached) == ["p0", "p1"]


def test_each_page_and_page_size_is_its_own_entry(plans, api_client):
    api_client.get(PLANS + "?page_size=2")

    second = api_client.get(PLANS + "?page=2&page_size=2")

    assert codes(second) == ["p2"]
    assert second.json()["previous"] == "http://testserver/api/plans?page_size=2"


def test_a_course_list_hit_with_a_bearer_token_costs_no_query(
    courses, learner_client, django_assert_num_queries
):
    uncached = learner_client.get(COURSES)

    with django_assert_num_queries(0):
        cached = learner_client.get(COURSES)

    same_response(uncached, cached)
    assert codes(cached) == ["c0", "c1", "c2"]


def test_the_course_list_still_wants_a_valid_token(courses, learner_client):
    learner_client.get(COURSES)

    assert APIClient().get(COURSES).status_code == 401
    forged = APIClient(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = forged.get(COURSES)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_deactivated_user_gets_no_cached_course_list(courses, learner, learner_client):
    learner_client.get(COURSES)
    learner.is_active = False
    learner.save()

    assert learner_client.get(COURSES).status_code == 401


def test_an_anonymous_hit_is_one_redis_command(plans, api_client, redis_server, settings):
    settings.RATELIMIT_ENABLE = False
    api_client.get(PLANS)

    with RedisCommandLog(redis_server.url) as log:
        assert api_client.get(PLANS).status_code == 200

    assert log.names() == ["MGET"], log.commands


def test_with_the_rate_limiter_on_an_anonymous_hit_is_one_round_trip(
    plans, api_client, redis_server, settings
):
    settings.RATELIMIT_ENABLE = True
    api_client.get(PLANS)

    with RedisCommandLog(redis_server.url) as log:
        assert api_client.get(PLANS).status_code == 200

    assert log.names() == ["SET", "INCR", "MGET"], log.commands
    assert len(set(log.clients[:3])) == 1


def test_a_bearer_hit_reads_user_and_page_in_one_command(
    courses, learner, learner_client, redis_server, settings
):
    settings.RATELIMIT_ENABLE = False
    learner_client.get(COURSES)

    with RedisCommandLog(redis_server.url) as log:
        assert learner_client.get(COURSES).status_code == 200

    assert log.names() == ["MGET"], log.commands
    assert f"etr:v1:user:{learner.pk}" in log.commands[0]
    assert "etr:v1:courses:" in log.commands[0]


def test_a_plan_edit_shows_at_once(plans, api_client):
    api_client.get(PLANS)
    plans[0].name = "Renamed"
    plans[0].save()

    assert api_client.get(PLANS).json()["results"][0]["name"] == "Renamed"


def test_a_new_or_changed_price_shows_at_once(plans, api_client):
    def prices():
        return api_client.get(PLANS).json()["results"][1]["prices"]

    assert prices() == []
    price = PlanPrice.objects.create(plan=plans[1], currency="VND", amount=99000)
    assert [p["amount"] for p in prices()] == [99000]
    price.amount = 149000
    price.save()
    assert [p["amount"] for p in prices()] == [149000]
    price.delete()
    assert prices() == []


def test_a_deleted_plan_leaves_the_list_at_once(plans, api_client):
    api_client.get(PLANS)
    plans[2].delete()

    assert codes(api_client.get(PLANS)) == ["p0", "p1"]


def test_a_course_change_shows_at_once(courses, learner_client):
    learner_client.get(COURSES)
    courses[1].is_published = False
    courses[1].save()
    CourseFactory(code="c9", min_tier=9)

    assert codes(learner_client.get(COURSES)) == ["c0", "c2", "c9"]


def test_a_plan_change_redis_missed_shows_within_the_bound(plans, api_client, redis_server):
    api_client.get(PLANS)

    def retire():
        Plan.objects.filter(pk=plans[0].pk).update(is_active=False)
        Plan.objects.get(pk=plans[0].pk).save()  # the admin's save: its signal's bump is lost

    while_redis_hung(redis_server, retire)

    assert PendingInvalidation.objects.filter(family="plans", ident="").exists()
    after_the_bound()
    assert codes(api_client.get(PLANS)) == ["p1", "p2"]
    assert not PendingInvalidation.objects.exists()


def test_with_redis_stopped_the_lists_come_from_the_database(
    plans, courses, api_client, learner_client, redis_server
):
    cached = api_client.get(PLANS)
    redis_server.stop()

    from_db = api_client.get(PLANS)

    same_response(cached, from_db)
    assert codes(learner_client.get(COURSES)) == ["c0", "c1", "c2"]


@pytest.mark.parametrize("query", ["?page=9", "?page=abc", "?page=0"])
def test_a_bad_page_is_the_error_envelope_and_caches_nothing(plans, api_client, query):
    for _ in range(2):
        response = api_client.get(PLANS + query)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_unknown_parameters_are_answered_by_the_view(plans, api_client):
    api_client.get(PLANS)

    response = api_client.get(PLANS + "?page_size=1&format=json")

    assert response.status_code == 200
    assert codes(response) == ["p0"]


def test_the_page_key_varies_with_language_query_and_accept():
    factory = RequestFactory()

    def ident(query="", language="en", **headers):
        with translation.override(language):
            return page_ident(factory.get(PLANS + query, **headers))

    assert ident() != ident(language="vi")
    assert ident() != ident("?page=2")
    assert ident("?page=2") == ident("?page=2")
    assert ident(HTTP_ACCEPT="text/html") is None
    assert ident("?page_size=x") is None
    assert ident("?search=a") is None
    assert ident(HTTP_COOKIE="sessionid=1") is None


def test_an_entry_expires_with_its_ttl(plans, api_client, settings):
    settings.ACCESS_CACHE_TTLS = {**settings.ACCESS_CACHE_TTLS, "plans": 1}
    api_client.get(PLANS)
    Plan.objects.filter(pk=plans[0].pk).update(name="Bulk")  # no signal: only the TTL
    time.sleep(1.2)

    assert api_client.get(PLANS).json()["results"][0]["name"] == "Bulk"


def test_a_page_is_cached_under_the_language_it_was_rendered_in(db, api_client):
    """A Vietnamese learner whose client sends ``Accept-Language: en`` reads the plans in
    Vietnamese (the stored choice wins) and leaves no Vietnamese page under the English key."""
    PlanFactory(code="pro", tier=2, prices={"VND": (199000, "")})
    vi_learner = bearer_client(UserFactory(language="vi"))

    def display(client, language):
        response = client.get(PLANS, HTTP_ACCEPT_LANGUAGE=language)
        return response["Content-Language"], response.json()["results"][0]["prices"][0]["display"]

    for _round in range(2):  # a miss, then a hit
        assert display(vi_learner, "en") == ("vi", "199.000\xa0₫")
        assert display(api_client, "en") == ("en", "₫199,000")
        assert display(api_client, "vi") == ("vi", "199.000\xa0₫")
