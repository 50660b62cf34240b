"""Database helpers shared by the apps' services: one ``atomic`` for every engine."""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from pymongo.errors import PyMongoError

from etrainer.api.errors import ApplicationError, ErrorCode

MONGODB_ATOMIC = "django_mongodb_backend.transaction.atomic"
# MongoDB's label on an error after which the whole transaction may simply be run again.
TRANSIENT_TRANSACTION_ERROR = "TransientTransactionError"
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_SECONDS = 0.02

T = TypeVar("T")


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
        return _mongodb_transaction(alias)
    return transaction.atomic(using=alias)


@contextmanager
def _mongodb_transaction(alias: str) -> Iterator[None]:
    """The backend's transaction, also inside a Django ``atomic`` block (the admin's views open
    one). Django's block is a no-op on MongoDB, but its flag is up, and the backend's commit
    refuses to run while it is ("forbidden when an 'atomic' block is active"): the flag is lowered
    for the outermost MongoDB block and put back when it ends. The writes are committed at that
    point, so its ``on_commit`` callbacks run then, as they would after a SQL commit."""
    connection = connections[alias]
    outermost = not connection.in_atomic_block_mongo
    inside_django_block = outermost and connection.in_atomic_block
    if inside_django_block:
        connection.in_atomic_block = False
    try:
        with import_string(MONGODB_ATOMIC)(alias):
            yield
    finally:
        if inside_django_block:
            connection.in_atomic_block = True


def atomically(function: Callable[[], T], *, using: str | None = None) -> T:
    """``function()`` inside ``atomic()``, run again when a MongoDB transaction lost a conflict.

    Two MongoDB transactions writing the same document (or the same unique key) do not wait for
    each other: the later one fails with a write conflict labelled TransientTransactionError, and
    the remedy is to run the transaction again, as the driver's own ``with_transaction`` does. On
    the next attempt the loser sees the winner's commit (a duplicate key becomes the usual
    ``IntegrityError``). A block nested in a caller's transaction is not retried alone: the
    caller's transaction is the one to run again. After the last attempt the conflict is a 409.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        nested = in_mongodb_transaction(using)
        try:
            with atomic(using):
                return function()
        except DatabaseError as error:
            if nested or not lost_write_conflict(error):
                raise
            if attempt == CONFLICT_ATTEMPTS:
                raise ApplicationError(
                    ErrorCode.CONFLICT,
                    _("The data was changed by a concurrent request; try again."),
                    status=409,
                    details={"reason": "changed_concurrently"},
                ) from error
        time.sleep(CONFLICT_BACKOFF_SECONDS * attempt * random.uniform(0.5, 1.5))  # noqa: S311
    raise AssertionError("unreachable")


def lost_write_conflict(error: BaseException) -> bool:
    """The database error is a MongoDB transaction that may be run again as a whole."""
    cause = error.__cause__ if isinstance(error, DatabaseError) else error
    return isinstance(cause, PyMongoError) and cause.has_error_label(TRANSIENT_TRANSACTION_ERROR)


def in_mongodb_transaction(using: str | None = None) -> bool:
    connection = connections[using or DEFAULT_DB_ALIAS]
    return connection.vendor == "mongodb" and bool(connection.in_atomic_block_mongo)


def unique_insert_savepoint():
    """Isolate an INSERT that may lose a unique-key race.

    On PostgreSQL an IntegrityError aborts the enclosing transaction (a request under
    ATOMIC_REQUESTS, a test) unless the INSERT ran in a savepoint. Not for correctness: the unique
    index decides who wins, and on MongoDB, where this is a no-op, it is all there is.
    """
    return transaction.atomic()
