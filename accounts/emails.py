"""The emails of the account flows, and handing them to the project's email path.

accounts cannot import notifications (it sits above accounts), so the email goes out through the
``account_email_requested`` signal, whose receiver (``notifications.account_emails``) stores it as
an email notice: queued after commit, retried, sent once per ``dedupe_key``.
"""

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from accounts.models import User
from accounts.signals import account_email_requested

logger = logging.getLogger(__name__)

# One email of a kind per user per window: a burst of resend/reset requests (someone else's
# address typed in a loop) sends one email, and the first link stays valid.
EMAIL_WINDOW_SECONDS = 300


class AccountEmailKind:
    VERIFY_EMAIL = "account_verify_email"
    ACCOUNT_EXISTS = "account_exists"
    PASSWORD_RESET = "account_password_reset"  # noqa: S105
    PASSWORD_CHANGED = "account_password_changed"  # noqa: S105


@dataclass(frozen=True)
class AccountEmail:
    kind: str
    subject: str
    body: str
    dedupe_key: str
    link: str = ""


def frontend_link(path: str, **params: str) -> str:
    return f"{settings.FRONTEND_URL}{path}?{urlencode(params)}"


def account_email_send(*, user: User, kind: str, subject: str, body: str, link: str = "") -> None:
    """Hand the email over; inside a transaction it is queued once that commits."""
    window = int(time.time()) // EMAIL_WINDOW_SECONDS
    email = AccountEmail(
        kind=kind,
        subject=subject,
        body=f"{body}\n\n{link}" if link else body,
        link=link,
        dedupe_key=f"{kind}:{user.pk}:{window}",
    )
    if not account_email_requested.send(sender=User, user=user, email=email):
        logger.error("No receiver delivers account emails; %s to user %s dropped", kind, user.pk)
