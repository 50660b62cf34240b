"""The access summary composed once per user and reused while its entries and the clock allow."""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from django.http import JsonResponse
from django.utils import timezone

from conftest import bearer_client
from subscriptions.rendered import SummaryMemo, summary_memo
from subscriptions.selectors import compose_summary, summary_valid_until
from subscriptions.tests.factories import (
    AiTokenAccountFactory,
    CourseFactory,
    CourseGrantFactory,
    PlanFactory,
    SubscriptionFactory,
)

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
SUB = {
    "id": "7",
    "status": "active",
    "started_at": NOW - dt.timedelta(days=3),
    "ends_at": NOW + dt.timedelta(days=27),
    "auto_renew": True,
    "plan": {"code": "basic", "name": "Basic", "tier": 1},
}
AI = {"period_start": dt.date(2026, 12, 1), "quota": 100, "used": 10}


class Composer:
    """A real composition that counts how often the memo asked for one."""

    def __init__(self, sub=SUB, grants=()):
        self.calls = 0
        self.sub, self.grants = sub, list(grants)

    def inputs(self):
        return (self.sub, AI, self.grants)

    def __call__(self, now):
        def compose():
            self.calls += 1
            summary = compose_summary(user_id="1", sub=self.sub, ai=AI, grants=self.grants, now=now)
            return summary, summary_valid_until(sub=self.sub, grants=self.grants, now=now)

        return compose


class TestTheClockEndsWhatTheEntriesStillSay:
    @pytest.mark.django_db
    def test_a_subscription_and_a_grant_end_on_time_with_their_entries_still_cached(self, learner):
        # given: a plan that ends and a grant that expires in a second, both read warm
        ends = timezone.now() + dt.timedelta(seconds=1)
        SubscriptionFactory(user=learner, plan=PlanFactory(tier=2), ends_at=ends)
        AiTokenAccountFactory(user=learner)
        grant = CourseGrantFactory(user=learner, course=CourseFactory(), expires_at=ends)
        client = bearer_client(learner)
        first = client.get("/api/me/access").json()
        assert client.get("/api/me/access").json() == first
        assert (first["tier"], [g["course"] for g in first["grants"]]) == (
            2,
            [str(grant.course_id)],
        )

        # when: the moment passes, and nothing was written or invalidated
        time.sleep(max(0.0, (ends - timezone.now()).total_seconds()) + 0.05)
        after = client.get("/api/me/access").json()

        # then
        assert (after["tier"], after["plan"], after["subscription"], after["grants"]) == (
            0,
            None,
            None,
            [],
        )

    def test_the_ai_month_turning_ends_a_composition(self):
        # given: a balance composed a minute before the UTC month ends
        composer = Composer(sub={**SUB, "ends_at": NOW + dt.timedelta(days=90)})
        memo = SummaryMemo(size=8)
        before = dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC)
        december = memo.composed("1", composer.inputs(), before, composer(before))

        # when: the same entries are read after midnight UTC
        after = dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC)
        january = memo.composed("1", composer.inputs(), after, composer(after))

        # then: a new month with nothing used yet
        assert december.summary["ai_tokens"]["used"] == 10
        assert january.summary["ai_tokens"] == {
            "quota": 100,
            "used": 0,
            "remaining": 100,
            "period_start": "2027-01-01",
            "period_end": "2027-02-01",
        }
        assert composer.calls == 2


class TestReuse:
    def test_equal_entries_reuse_the_composition_and_different_ones_compose_again(self):
        composer, memo = Composer(), SummaryMemo(size=8)

        first = memo.composed("1", composer.inputs(), NOW, composer(NOW))
        again = memo.composed("1", composer.inputs(), NOW + dt.timedelta(hours=1), composer(NOW))
        used_more = (SUB, {**AI, "used": 11}, [])
        changed = memo.composed("1", used_more, NOW, composer(NOW))

        assert again is first
        assert composer.calls == 2
        assert changed.summary is not first.summary

    def test_the_oldest_user_is_dropped_beyond_the_size_and_size_0_keeps_nothing(self):
        composer, memo = Composer(), SummaryMemo(size=2)
        for user in ("1", "2", "3"):
            memo.composed(user, composer.inputs(), NOW, composer(NOW))
        assert list(memo.slots) == ["2", "3"]

        off = SummaryMemo(size=0)
        off.composed("1", composer.inputs(), NOW, composer(NOW))
        off.composed("1", composer.inputs(), NOW, composer(NOW))
        assert off.slots == {}
        assert composer.calls == 5

    def test_times_render_in_utc_whatever_zone_the_entry_carries(self):
        in_hanoi = {**SUB, "ends_at": SUB["ends_at"].astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))}

        summary = compose_summary(user_id="1", sub=in_hanoi, ai=AI, grants=[], now=NOW)

        assert summary["subscription"]["ends_at"] == "2026-12-29T10:00:00Z"


@pytest.mark.django_db
def test_the_body_is_the_bytes_jsonresponse_renders_for_the_summary(learner):
    SubscriptionFactory(user=learner, plan=PlanFactory(code="co-ban", name="Cơ bản", tier=1))
    AiTokenAccountFactory(user=learner)
    client = bearer_client(learner)

    first, second = client.get("/api/me/access"), client.get("/api/me/access")

    summary = summary_memo.slots[str(learner.pk)].summary
    rendered = JsonResponse(summary, json_dumps_params={"separators": (",", ":")})
    assert first.content == second.content == rendered.content
    assert first["Content-Type"] == rendered["Content-Type"] == "application/json"
    assert second.json()["plan"]["name"] == "Cơ bản"
