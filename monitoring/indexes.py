"""Compare the indexes every model declares with the ones the database has; create them on MongoDB.

Declared means: ``Meta.indexes``, unique ``Meta.constraints``, ``unique_together``, ``unique=True``
fields and ``db_index`` fields (ForeignKeys included). On SQL engines migrations create all of
them, so a missing one means a migration was not applied (or an index was dropped by hand); on
MongoDB collections are created lazily and an index can go missing silently, so
``manage.py ensure_indexes`` creates it through the backend's own schema editor, with the names
and options its migrations would have used.

A present index is matched by its columns and uniqueness, not by name: SQL engines name field
indexes with a hash and MongoDB reports the key path, and the columns are what a query can use.
"""

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from enum import StrEnum

from django.apps import apps
from django.db import models

MONGODB = "mongodb"


class IndexState(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    NO_TABLE = "no table"
    CREATED = "created"


class IndexSource(StrEnum):
    META_INDEX = "Meta.indexes"
    META_CONSTRAINT = "Meta.constraints"
    UNIQUE_TOGETHER = "unique_together"
    FIELD_UNIQUE = "unique field"
    FIELD_INDEX = "db_index field"


UNIQUE_SOURCES = {
    IndexSource.META_CONSTRAINT,
    IndexSource.UNIQUE_TOGETHER,
    IndexSource.FIELD_UNIQUE,
}


@dataclass(frozen=True)
class DeclaredIndex:
    model: type[models.Model]
    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]
    unique: bool
    source: IndexSource
    declaration: object

    @property
    def table(self) -> str:
        return self.model._meta.db_table


@dataclass(frozen=True)
class IndexStatus:
    declared: DeclaredIndex
    state: IndexState


def declared_indexes() -> list[DeclaredIndex]:
    """Every index the installed models declare, M2M through tables included."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            found.extend(model_indexes(model))
    return found


def model_indexes(model: type[models.Model]) -> Iterator[DeclaredIndex]:
    yield from _field_indexes(model)
    for fields in model._meta.unique_together:
        name = f"unique({', '.join(fields)})"
        yield _declared(model, name, fields, IndexSource.UNIQUE_TOGETHER, fields)
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            source = IndexSource.META_CONSTRAINT
            yield _declared(model, constraint.name, constraint.fields, source, constraint)
    for index in model._meta.indexes:
        if not index.contains_expressions:
            fields = [name for name, _order in index.fields_orders]
            yield _declared(model, index.name, fields, IndexSource.META_INDEX, index)


def _field_indexes(model) -> Iterator[DeclaredIndex]:
    for field in model._meta.local_fields:
        if field.primary_key or not field.column:
            continue
        if field.unique:
            yield _declared(model, field.name, [field.name], IndexSource.FIELD_UNIQUE, field)
        elif field.db_index:
            yield _declared(model, field.name, [field.name], IndexSource.FIELD_INDEX, field)


def _declared(model, name, fields, source: IndexSource, declaration) -> DeclaredIndex:
    unique = source in UNIQUE_SOURCES
    columns = tuple(model._meta.get_field(field).column for field in fields)
    return DeclaredIndex(model, name, tuple(fields), columns, unique, source, declaration)


def index_report(connection) -> list[IndexStatus]:
    """The state of every declared index on ``connection`` (reads only)."""
    tables = set(connection.introspection.table_names())
    present_by_table: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
    statuses = []
    for declared in declared_indexes():
        if declared.table not in tables:
            statuses.append(IndexStatus(declared, IndexState.NO_TABLE))
            continue
        if declared.table not in present_by_table:
            present_by_table[declared.table] = present_indexes(connection, declared.table)
        found = _is_present(declared, present_by_table[declared.table])
        statuses.append(IndexStatus(declared, IndexState.PRESENT if found else IndexState.MISSING))
    return statuses


def present_indexes(connection, table: str) -> list[tuple[tuple[str, ...], bool]]:
    """(columns, unique) of every index and unique constraint the table has."""
    with _introspection_cursor(connection) as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        (tuple(info["columns"]), bool(info["unique"]))
        for info in constraints.values()
        if (info["index"] or info["unique"]) and not info["primary_key"]
    ]


def _introspection_cursor(connection):
    """SQL introspection needs a cursor; django-mongodb-backend's ignores it and has none."""
    return nullcontext() if connection.vendor == MONGODB else connection.cursor()


def _is_present(declared: DeclaredIndex, present) -> bool:
    return any(
        columns == declared.columns and (unique or not declared.unique)
        for columns, unique in present
    )


def create_missing(connection, statuses: list[IndexStatus]) -> list[IndexStatus]:
    """Create the missing indexes on MongoDB (collections included); return the new statuses."""
    if connection.vendor != MONGODB:
        raise ValueError("indexes are created by migrations on SQL engines: run `migrate`")
    result = []
    with connection.schema_editor() as editor:
        for status in statuses:
            if status.state in (IndexState.MISSING, IndexState.NO_TABLE):
                create_index(editor, status.declared)
                status = IndexStatus(status.declared, IndexState.CREATED)
            result.append(status)
    return result


def create_index(editor, declared: DeclaredIndex) -> None:
    """One declared index, through the same schema-editor calls the backend's migrations make.

    MongoDB creates a missing collection on its first index, so a model whose collection was
    never written to gets its indexes before its first document.
    """
    model, declaration = declared.model, declared.declaration
    if declared.source is IndexSource.META_INDEX:
        editor.add_index(model, declaration)
    elif declared.source is IndexSource.META_CONSTRAINT:
        editor.add_constraint(model, declaration)
    elif declared.source is IndexSource.UNIQUE_TOGETHER:
        editor.alter_unique_together(model, [], [declared.fields])
    else:
        # A field's own index or unique constraint: the public "alter this field from unindexed
        # to as declared" call, which is how a migration adding ``db_index``/``unique`` does it.
        editor.alter_field(model, _unindexed_copy(model, declaration), declaration)


def _unindexed_copy(model, field: models.Field) -> models.Field:
    """The same field without ``db_index`` and ``unique``, built from its deconstruction."""
    name, _path, args, kwargs = field.deconstruct()
    kwargs.update(db_index=False, unique=False)
    field_class = type(field)
    if field.is_relation:
        kwargs["to"] = field.related_model
        if isinstance(field, models.OneToOneField):  # always unique: its plain ForeignKey is not
            field_class = models.ForeignKey
    copy = field_class(*args, **kwargs)
    copy.set_attributes_from_name(name)
    copy.model = model
    return copy
