"""Restore: complete (every referenced table is in the backup), checked first, all or nothing."""

import gzip
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from jobs.backups import backup_create
from subscriptions.models import AiTokenAccount, Course, CourseGrant, Plan, Subscription
from subscriptions.tests.factories import (
    AiTokenAccountFactory,
    CourseGrantFactory,
    PlanFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

RESTORED = (CourseGrant, Subscription, AiTokenAccount, Course, Plan, User)  # deletion order


@pytest.fixture
def learners_with_grants(db):
    pro = PlanFactory(code="pro", tier=2, ai_tokens_per_period=500)
    for n in range(3):
        learner = UserFactory(email=f"granted{n}@example.com")
        SubscriptionFactory(user=learner, plan=pro)
        CourseGrantFactory(user=learner, source="admin")
        AiTokenAccountFactory(user=learner, quota=500, used=n)


def snapshot() -> dict[str, list]:
    return {
        "grants": sorted(
            CourseGrant.objects.values_list("user__email", "course__code", "source", "expires_at")
        ),
        "courses": sorted(Course.objects.values_list("pk", "code", "min_tier")),
        "subscriptions": sorted(Subscription.objects.values_list("pk", "user_id", "plan__code")),
        "accounts": sorted(AiTokenAccount.objects.values_list("user__email", "quota", "used")),
        "users": sorted(User.objects.values_list("pk", "email")),
    }


def empty_the_database() -> None:
    for model in RESTORED:
        model.objects.all().delete()


def nothing_restored() -> bool:
    return not any(model.objects.exists() for model in RESTORED)


def backup(directory, labels=None) -> Path:
    return backup_create(
        directory=directory, labels=list(labels or settings.BACKUP_MODELS), batch_size=100
    )


def restore(path) -> str:
    out = io.StringIO()
    call_command("restore_backup", str(path), stdout=out)
    return out.getvalue()


def rewrite(path, label: str, edit) -> None:
    """Change one file of a backup and its manifest entry (checksum and count stay consistent)."""
    manifest = json.loads((path / "manifest.json").read_text())
    entry = next(e for e in manifest["models"] if e["label"] == label)
    file = path / entry["file"]
    with gzip.open(file, "rt") as stream:
        rows = [json.loads(line) for line in stream if line.strip()]
    rows = edit(rows)
    with gzip.open(file, "wt") as stream:
        stream.writelines(json.dumps(row) + "\n" for row in rows)
    entry["count"] = len(rows)
    entry["sha256"] = hashlib.sha256(file.read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_every_table_a_backed_up_row_refers_to_is_backed_up():
    for label in settings.BACKUP_MODELS:
        model = apps.get_model(label)
        for field in model._meta.local_concrete_fields:
            if field.is_relation:
                assert field.related_model._meta.label in settings.BACKUP_MODELS, (label, field)


def test_a_backup_with_grants_round_trips_into_a_fresh_database(
    backup_dir, learners_with_grants, recwarn
):
    # given a backup of every table the job backs up (a course no one holds included), and a
    # fresh database
    Course.objects.create(code="unused-course", title="Nobody holds it")
    before = snapshot()
    path = backup(backup_dir)
    empty_the_database()

    # when
    output = restore(path)

    # then every row is back, the grants with their courses, without a loaddata warning
    assert snapshot() == before
    assert "subscriptions.CourseGrant: 3 rows restored" in output
    assert not [w for w in recwarn if "fixture" in str(w.message).lower()]


def test_an_empty_table_restores_without_a_loaddata_warning(backup_dir, recwarn):
    UserFactory()
    path = backup(backup_dir)  # plans, courses, subscriptions, grants, accounts: all empty
    empty_the_database()

    restore(path)

    assert User.objects.count() == 1
    assert not [w for w in recwarn if "No fixture data found" in str(w.message)]


def test_a_dangling_reference_is_refused_before_anything_is_written(
    backup_dir, learners_with_grants
):
    # given a backup made without the courses its grants refer to (as the job did before)
    labels = [label for label in settings.BACKUP_MODELS if label != "subscriptions.Course"]
    path = backup(backup_dir, labels)
    empty_the_database()

    # when / then
    with pytest.raises(CommandError) as refused:
        restore(path)
    message = str(refused.value)
    assert message.startswith("Nothing was restored: the backup refers to rows it does not hold")
    assert "-> subscriptions.Course" in message
    assert nothing_restored()


def test_a_failure_half_way_leaves_nothing_and_can_be_tried_again(backup_dir, learners_with_grants):
    # given a backup whose last table breaks a unique rule (two accounts for one user)
    path = backup(backup_dir)
    empty_the_database()

    def duplicate_an_account(rows):
        twin = {key: value for key, value in rows[0].items() if key != "pk"}  # a new id
        return [*rows, twin]

    rewrite(path, "subscriptions.AiTokenAccount", duplicate_an_account)

    # when users, plans, courses, subscriptions and grants were loaded before the failure
    with pytest.raises(CommandError, match="Nothing was restored: loading"):
        restore(path)

    # then none of them stayed, and a second try meets the same failure, not "not empty"
    assert nothing_restored()
    with pytest.raises(CommandError, match="Nothing was restored: loading"):
        restore(path)
