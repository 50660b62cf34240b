from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import RevokedToken
from accounts.tasks import purge_revoked_tokens_task
from jobs.models import JobRun

pytestmark = pytest.mark.django_db


def test_purge_drops_only_expired_deny_list_entries_and_a_rerun_changes_nothing():
    # given
    now = timezone.now()
    RevokedToken.objects.create(jti="expired", expires_at=now - timedelta(days=1))
    RevokedToken.objects.create(jti="live", expires_at=now + timedelta(days=1))

    # when
    purge_revoked_tokens_task.apply()
    purge_revoked_tokens_task.apply()

    # then
    assert list(RevokedToken.objects.values_list("jti", flat=True)) == ["live"]
    runs = list(JobRun.objects.filter(job="purge_revoked_tokens").order_by("started_at"))
    assert [(run.status, run.items) for run in runs] == [("succeeded", 1), ("succeeded", 0)]
