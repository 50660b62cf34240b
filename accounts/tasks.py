from accounts.login_limits import login_failures_purge
from accounts.services import revoked_tokens_purge
from jobs.runner import JobContext, job_task


@job_task("purge_revoked_tokens")
def purge_revoked_tokens_task(run: JobContext) -> int:
    """Expired deny-list entries, and failed logins older than every lockout window."""
    return revoked_tokens_purge() + login_failures_purge()
