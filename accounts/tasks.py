from accounts.services import revoked_tokens_purge
from jobs.runner import JobContext, job_task


@job_task("purge_revoked_tokens")
def purge_revoked_tokens_task(run: JobContext) -> int:
    return revoked_tokens_purge()
