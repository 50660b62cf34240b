"""Database helpers shared by the apps' services: one ``atomic`` for every engine."""

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.module_loading import import_string

MONGODB_ATOMIC = "django_mongodb_backend.transaction.atomic"


def atomic(using: str | None = None):
    """All-or-nothing writes on every engine, with ``on_commit`` callbacks run after the commit.

    Django's ``transaction.atomic`` is a no-op on MongoDB (the backend declares no transaction
    support), and ``on_commit`` callbacks run at once there. django-mongodb-backend ships its own
    ``atomic``, a multi-document transaction on a replica set that also defers ``on_commit`` to the
    commit; this picks it when the connection is MongoDB. Its module is only loaded then (it is the
    engine's own package, imported by Django already), so the SQL lanes never import it.

    On MongoDB any write error inside a transaction aborts the whole transaction: a block that
    expects an ``IntegrityError`` must let it leave the block (and retry, if at all, outside).
    """
    alias = using or DEFAULT_DB_ALIAS
    if connections[alias].vendor == "mongodb":
        return import_string(MONGODB_ATOMIC)(alias)
    return transaction.atomic(using=alias)


def unique_insert_savepoint():
    """Isolate an INSERT that may lose a unique-key race.

    On PostgreSQL an IntegrityError aborts the enclosing transaction (a request under
    ATOMIC_REQUESTS, a test) unless the INSERT ran in a savepoint. Not for correctness: the unique
    index decides who wins, and on MongoDB, where this is a no-op, it is all there is.
    """
    return transaction.atomic()
