"""Background jobs: locks, retries and the backup job's output."""

from etrainer.env import BASE_DIR, env

# The lock of a run lives for the job's hard time limit + this margin; a SIGKILLed run's lock then
# expires before the broker re-delivers its message (CELERY_VISIBILITY_TIMEOUT must be longer).
JOBS_LOCK_TTL_MARGIN = env.int("JOBS_LOCK_TTL_MARGIN", default=60)
JOBS_MAX_RETRIES = env.int("JOBS_MAX_RETRIES", default=3)
JOBS_RETRY_BACKOFF = env.int("JOBS_RETRY_BACKOFF", default=30)
JOBS_RETRY_BACKOFF_MAX = env.int("JOBS_RETRY_BACKOFF_MAX", default=600)
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
BACKUP_BATCH_SIZE = env.int("BACKUP_BATCH_SIZE", default=2000)
# Seconds slept per batch: only the jobs smoke sets it, to make a real backup slow enough to kill.
BACKUP_THROTTLE_SECONDS = env.float("BACKUP_THROTTLE_SECONDS", default=0.0)
# Every table a backed-up row refers to is backed up too (a test holds this): a grant needs its
# course, or it cannot be restored into a fresh database.
BACKUP_MODELS = [
    "accounts.User",
    "subscriptions.Plan",
    "subscriptions.PlanPrice",  # without its prices a restored plan would be free
    "subscriptions.Subscription",
    "subscriptions.Course",
    "subscriptions.CourseGrant",
    "subscriptions.AiTokenAccount",
]
