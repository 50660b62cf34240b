import gzip
import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from etrainer.tests.subprocess_env import manage
from jobs.backups import backup_create, complete_backups
from jobs.models import JobRun, JobStatus
from jobs.tasks import backup_critical_data_task

pytestmark = pytest.mark.django_db

USER_FIELDS = (
    "id", "email", "password", "first_name", "last_name", "role", "timezone",
    "is_staff", "is_superuser", "is_active", "date_joined", "last_login",
)  # fmt: skip


def _users_to_the_millisecond() -> list[dict]:
    """JSON serialization keeps milliseconds, the precision MongoDB stores anyway."""
    rows = list(User.objects.order_by("pk").values(*USER_FIELDS))
    for row in rows:
        for field in ("date_joined", "last_login"):
            if row[field]:
                row[field] = row[field].replace(microsecond=row[field].microsecond // 1000 * 1000)
    return rows


def _backup(backup_dir, labels=("accounts.User",), task_id="task-1", batch_size=10):
    return backup_create(
        directory=backup_dir, labels=list(labels), batch_size=batch_size, task_id=task_id
    )


def test_the_job_writes_a_backup_with_a_manifest(backup_dir):
    # given
    UserFactory.create_batch(4)

    # when
    result = backup_critical_data_task.apply(kwargs={"trigger": "beat"})

    # then
    [path] = complete_backups(backup_dir)
    manifest = json.loads((path / "manifest.json").read_text())
    users = next(e for e in manifest["models"] if e["label"] == "accounts.User")
    assert users["count"] == 4
    assert manifest["task_id"] == result.id
    with gzip.open(path / users["file"], "rt") as stream:
        emails = {json.loads(line)["fields"]["email"] for line in stream}
    assert emails == set(User.objects.values_list("email", flat=True))
    run = JobRun.objects.get()
    assert (run.status, run.items) == (JobStatus.SUCCEEDED, manifest_total(manifest))


def manifest_total(manifest) -> int:
    return sum(entry["count"] for entry in manifest["models"])


def test_models_that_do_not_exist_yet_are_skipped(backup_dir):
    path = _backup(backup_dir, labels=("accounts.User", "nowhere.Missing"))

    manifest = json.loads((path / "manifest.json").read_text())
    assert [e["label"] for e in manifest["models"]] == ["accounts.User"]
    assert manifest["skipped"] == ["nowhere.Missing"]


def test_a_redelivered_run_writes_nothing_new(backup_dir):
    UserFactory.create_batch(2)
    first = _backup(backup_dir, task_id="same-task")
    UserFactory()

    again = _backup(backup_dir, task_id="same-task")

    assert again == first
    assert complete_backups(backup_dir) == [first]


def test_a_killed_run_leaves_no_backup_and_its_leftovers_are_removed(backup_dir):
    backup_dir.mkdir(parents=True)
    leftover = backup_dir / ".backup-20260101T000000000000Z-dead.partial"
    leftover.mkdir()

    _backup(backup_dir)

    assert not leftover.exists()
    assert len(complete_backups(backup_dir)) == 1


def test_only_the_newest_backups_are_kept(backup_dir, settings):
    for _ in range(settings.BACKUP_KEEP + 2):
        backup_critical_data_task.apply()

    kept = complete_backups(backup_dir)
    assert len(kept) == settings.BACKUP_KEEP
    assert kept == sorted(kept, reverse=True)


def test_queries_grow_with_batches_not_rows(backup_dir, django_assert_num_queries):
    UserFactory.create_batch(30)
    with django_assert_num_queries(1):
        _backup(backup_dir, task_id="small", batch_size=1000)
    UserFactory.create_batch(30)
    with django_assert_num_queries(1):
        _backup(backup_dir, task_id="large", batch_size=1000)


def test_a_backup_round_trips_into_an_empty_database(backup_dir):
    """Done-when 5: every column of every row comes back, ids included."""
    # given
    UserFactory.create_batch(5)
    UserFactory(is_staff=True, role="staff", timezone="Europe/Paris")
    before = _users_to_the_millisecond()
    path = _backup(backup_dir)
    call_command("verify_backup", str(path), stdout=open_null())
    User.objects.all().delete()

    # when
    call_command("restore_backup", str(path), stdout=open_null())

    # then
    assert _users_to_the_millisecond() == before
    assert User.objects.get(pk=before[0]["id"]).check_password("correct-horse-battery-staple")
    UserFactory()  # ids continue after the restored ones (sequences reset on SQL engines)


def test_restore_refuses_a_database_that_has_rows(backup_dir):
    UserFactory()
    path = _backup(backup_dir)

    with pytest.raises(CommandError, match="empty tables"):
        call_command("restore_backup", str(path))


def open_null():
    return io.StringIO()


def _corrupt_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_fails_on_a_flipped_byte(backup_dir):
    UserFactory.create_batch(3)
    path = _backup(backup_dir)
    _corrupt_one_byte(path / "accounts_user.jsonl.gz")

    with pytest.raises(CommandError, match="sha256 does not match"):
        call_command("verify_backup", str(path))


def test_verify_fails_on_a_truncated_file_even_with_a_matching_checksum(backup_dir):
    # given: the file and its manifest entry were both rewritten (checksum recomputed)
    UserFactory.create_batch(3)
    path = _backup(backup_dir)
    file = path / "accounts_user.jsonl.gz"
    file.write_bytes(file.read_bytes()[:-12])
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["models"][0]["sha256"] = hashlib.sha256(file.read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))

    # then
    with pytest.raises(CommandError, match="unreadable"):
        call_command("verify_backup", str(path))


def test_verify_fails_when_the_row_count_differs(backup_dir):
    UserFactory.create_batch(3)
    path = _backup(backup_dir)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["models"][0]["count"] = 4
    (path / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match="3 rows, the manifest says 4"):
        call_command("verify_backup", str(path))


@pytest.mark.slow
def test_verify_backup_exits_non_zero_on_a_corrupted_backup(backup_dir):
    UserFactory.create_batch(3)
    path = _backup(backup_dir)
    ok = manage("verify_backup", str(path), env={})
    _corrupt_one_byte(path / "accounts_user.jsonl.gz")

    corrupted = manage("verify_backup", str(path), env={})

    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    assert corrupted.returncode != 0
    assert "CORRUPTED" in corrupted.stderr
