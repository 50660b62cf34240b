"""Database helpers shared by the apps' services."""

from django.db import transaction


def unique_insert_savepoint():
    """Isolate an INSERT that may lose a unique-key race.

    On PostgreSQL an IntegrityError aborts the enclosing transaction (a request under
    ATOMIC_REQUESTS, a test) unless the INSERT ran in a savepoint. Not for correctness: the unique
    index decides who wins, and on MongoDB, where this is a no-op, it is all there is.
    """
    return transaction.atomic()
