"""Exams, streaks, notification emails and the demo accounts ``make run`` creates."""

from etrainer.env import env

# How long exam histories are kept; the weekly cleanup job deletes older ones.
EXAM_HISTORY_RETENTION_DAYS = env.int("EXAM_HISTORY_RETENTION_DAYS", default=365)
# A client-reported exam ``taken_at`` may be at most this many days old (never in the future).
EXAM_TAKEN_AT_MAX_AGE_DAYS = env.int("EXAM_TAKEN_AT_MAX_AGE_DAYS", default=30)
# Streak lengths (days) that earn an email.
STREAK_MILESTONES = frozenset(env.list("STREAK_MILESTONES", cast=int, default=[7, 30, 100, 365]))

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="ETrainer <no-reply@etrainer.local>")
NOTIFICATION_EMAIL_MAX_RETRIES = env.int("NOTIFICATION_EMAIL_MAX_RETRIES", default=5)
# The requeue_unsent_emails job queues again an unsent email once it is this old (younger ones may
# still wait in the queue) and gives up on it past the max age (a reminder days late is noise).
NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS = env.int(
    "NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS", default=600
)
NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS = env.int(
    "NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS", default=72
)

DEMO_STAFF_EMAIL = env("DEMO_STAFF_EMAIL", default="admin@etrainer.local")
DEMO_STAFF_PASSWORD = env("DEMO_STAFF_PASSWORD", default="")
DEMO_LEARNER_EMAIL = env("DEMO_LEARNER_EMAIL", default="learner@etrainer.local")
DEMO_LEARNER_PASSWORD = env("DEMO_LEARNER_PASSWORD", default="")
