"""`manage.py ensure_indexes`: every declared index is found after migrate, a dropped one is not."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models

from etrainer.tests.subprocess_env import manage
from monitoring.indexes import (
    DeclaredIndex,
    IndexSource,
    IndexState,
    IndexStatus,
    create_missing,
    declared_indexes,
)


def declared_columns(label: str) -> dict[tuple[str, ...], bool]:
    model = apps.get_model(label)
    return {d.columns: d.unique for d in declared_indexes() if d.model is model}


def test_every_meta_index_and_unique_constraint_of_every_model_is_covered():
    declared = {(d.model, d.name) for d in declared_indexes()}

    for model in apps.get_models():
        for index in model._meta.indexes:
            assert (model, index.name) in declared, index.name
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                assert (model, constraint.name) in declared, constraint.name


@pytest.mark.parametrize(
    ("label", "columns", "unique"),
    [
        ("accounts.User", ("email",), True),
        ("accounts.User", ("role",), False),
        ("subscriptions.Subscription", ("user_id", "status", "ends_at"), False),
        ("subscriptions.Subscription", ("status", "ends_at"), False),
        ("learning.ExamHistory", ("user_id", "taken_at"), False),
    ],
)
def test_the_hot_queries_have_declared_indexes(label, columns, unique):
    assert declared_columns(label).get(columns) is unique


@pytest.mark.django_db
def test_check_passes_after_migrate():
    out = StringIO()

    call_command("ensure_indexes", "--check", stdout=out)

    report = out.getvalue()
    assert "subs_sub_user_status_ends_idx" in report
    assert "indexes in place" in report
    assert " missing" not in report


@pytest.mark.django_db(transaction=True)
def test_check_fails_when_an_index_was_dropped_by_hand():
    # given
    user_model = apps.get_model("accounts.User")
    role_index = next(i for i in user_model._meta.indexes if i.name == "accounts_user_role_idx")
    with connection.schema_editor() as editor:
        editor.remove_index(user_model, role_index)
    out = StringIO()

    try:
        # when
        with pytest.raises(CommandError) as raised:
            call_command("ensure_indexes", "--check", stdout=out)
    finally:
        with connection.schema_editor() as editor:
            editor.add_index(user_model, role_index)

    # then
    assert raised.value.returncode == 1
    assert "1 declared indexes are missing" in str(raised.value)
    row = next(line for line in out.getvalue().splitlines() if "accounts_user_role_idx" in line)
    assert row.split()[-1] == "missing"


@pytest.mark.slow
def test_the_command_exits_1_on_a_database_that_was_never_migrated(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }

    result = manage("ensure_indexes", "--check", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "no table" in result.stdout
    assert "run `manage.py migrate`" in result.stderr


class RecordingEditor:
    """Stands in for django-mongodb-backend's schema editor: records the calls."""

    def __init__(self):
        self.calls = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args))


class FakeMongoConnection:
    vendor = "mongodb"

    def __init__(self):
        self.editor = RecordingEditor()

    def schema_editor(self):
        return self.editor


def test_on_mongodb_each_missing_index_is_created_with_the_backends_own_editor_call():
    # given
    by_source = {}
    for declared in declared_indexes():
        by_source.setdefault(declared.source, declared)
    statuses = [IndexStatus(d, IndexState.MISSING) for d in by_source.values()]
    present = next(d for d in declared_indexes() if d.name == "accounts_user_role_idx")
    statuses.append(IndexStatus(present, IndexState.PRESENT))
    connection = FakeMongoConnection()

    # when
    result = create_missing(connection, statuses)

    # then
    expected = {
        IndexSource.META_INDEX: "add_index",
        IndexSource.META_CONSTRAINT: "add_constraint",
        IndexSource.UNIQUE_TOGETHER: "alter_unique_together",
        IndexSource.FIELD_UNIQUE: "alter_field",
        IndexSource.FIELD_INDEX: "alter_field",
    }
    assert set(by_source) == set(expected)
    called = [name for name, _args in connection.editor.calls]
    assert called == [expected[source] for source in by_source]
    assert [s.state for s in result] == [IndexState.CREATED] * len(by_source) + [IndexState.PRESENT]


@pytest.mark.skipif(
    connection.vendor == "mongodb",
    reason="SQL-only by design: on SQL engines only migrations create indexes",
)
def test_indexes_are_never_created_outside_migrations_on_sql():
    declared: DeclaredIndex = declared_indexes()[0]

    with pytest.raises(ValueError, match="migrate"):
        create_missing(connection, [IndexStatus(declared, IndexState.MISSING)])


def mongo_index_keys(table: str) -> dict[tuple[str, ...], bool]:
    """listIndexes of one collection: (key columns) -> unique."""
    info = connection.database.get_collection(table).index_information()
    return {
        tuple(column for column, _ in spec["key"]): bool(spec.get("unique"))
        for spec in info.values()
    }


@pytest.mark.skipif(
    connection.vendor != "mongodb",
    reason="MongoDB only: on SQL engines migrations create every index (test_check_* above)",
)
@pytest.mark.django_db(transaction=True)
def test_on_mongodb_ensure_indexes_recreates_dropped_indexes_of_every_kind():
    # given: one declared index of each kind dropped from its collection by hand
    one_of_each = {}
    for declared in declared_indexes():
        if declared.columns != ("_id",):
            one_of_each.setdefault(declared.source, declared)
    one_of_each[IndexSource.META_INDEX] = next(
        d for d in declared_indexes() if d.name == "subs_sub_user_status_ends_idx"
    )
    for declared in one_of_each.values():
        collection = connection.database.get_collection(declared.table)
        name = next(
            name
            for name, spec in collection.index_information().items()
            if tuple(column for column, _ in spec["key"]) == declared.columns
        )
        collection.drop_index(name)
    compound = ("user_id", "status", "ends_at")
    assert compound not in mongo_index_keys("subscriptions_subscription")

    # when: --check, then the command itself
    with pytest.raises(CommandError) as raised:
        call_command("ensure_indexes", "--check", stdout=StringIO())
    out = StringIO()
    call_command("ensure_indexes", stdout=out)

    # then: --check had failed on exactly those; listIndexes shows them again, uniqueness included
    assert f"{len(one_of_each)} declared indexes are missing" in str(raised.value)
    assert set(one_of_each) == set(IndexSource)
    for declared in one_of_each.values():
        assert mongo_index_keys(declared.table).get(declared.columns) is declared.unique, declared
    assert mongo_index_keys("subscriptions_subscription")[compound] is False
    call_command("ensure_indexes", "--check", stdout=StringIO())
