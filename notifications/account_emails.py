"""Receivers of the accounts app's signals: account emails go out on the notifications email
path (stored once per dedupe key, queued after commit, retried), and the notifications section
of a data export. accounts cannot import this app, so it asks through its signals."""

from django.dispatch import receiver

from accounts.signals import account_email_requested, user_data_export
from notifications.models import REDACTED_BODY, Notification, NotificationChannel, is_private_kind
from notifications.services import notify


@receiver(account_email_requested, dispatch_uid="notifications-account-email")
def send_account_email(sender, user, email, **kwargs) -> None:
    notify(
        user=user,
        kind=email.kind,
        title=email.subject,
        body=email.body,
        channel=NotificationChannel.EMAIL,
        dedupe_key=email.dedupe_key,
    )


@receiver(user_data_export, dispatch_uid="notifications-export")
def export_notifications(sender, user, **kwargs) -> dict:
    """The person's notices; an account email's one-time link is not repeated in the export."""
    rows = Notification.objects.filter(user=user).order_by("created_at", "pk")
    notices = list(
        rows.values(
            "id",
            "kind",
            "channel",
            "title",
            "body",
            "payload",
            "created_at",
            "read_at",
            "sent_at",
        )
    )
    for notice in notices:
        if is_private_kind(notice["kind"]):
            notice["body"] = REDACTED_BODY
    return {"notifications": notices}
