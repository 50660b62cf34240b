"""Course grants: one user's access to one course outside their plan's tier."""

import datetime as dt

from django.db import IntegrityError

from etrainer.db import unique_insert_savepoint
from subscriptions import cache as access_cache
from subscriptions.models import Course, CourseGrant, GrantSource


def course_grant(
    *, user, course: Course, expires_at: dt.datetime | None = None, source: str = GrantSource.ADMIN
) -> CourseGrant:
    """Give (or extend, or make permanent) one user's access to one course; idempotent."""
    fields = {"expires_at": expires_at, "source": source}
    if not CourseGrant.objects.filter(user=user, course=course).update(**fields):
        try:
            with unique_insert_savepoint():
                CourseGrant.objects.create(user=user, course=course, **fields)
        except IntegrityError:
            CourseGrant.objects.filter(user=user, course=course).update(**fields)
    access_cache.invalidate(user.pk, "grants")
    return CourseGrant.objects.get(user=user, course=course)


def course_revoke(*, user, course: Course) -> bool:
    deleted, _ = CourseGrant.objects.filter(user=user, course=course).delete()
    access_cache.invalidate(user.pk, "grants")
    return bool(deleted)
