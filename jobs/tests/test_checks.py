from jobs.checks import visibility_timeout_outlives_job_locks


def _with_broker(settings, visibility_timeout: int) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_TASK_TIME_LIMIT = 360
    settings.JOBS_LOCK_TTL_MARGIN = 60
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": visibility_timeout}


def test_a_visibility_timeout_shorter_than_the_lock_is_flagged(settings):
    _with_broker(settings, visibility_timeout=400)

    [warning] = visibility_timeout_outlives_job_locks(None)

    assert warning.id == "jobs.W001"


def test_the_default_production_figures_pass(settings):
    _with_broker(settings, visibility_timeout=7200)

    assert visibility_timeout_outlives_job_locks(None) == []
