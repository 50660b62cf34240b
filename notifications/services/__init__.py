"""Writes of the notifications app: store a notice once, mark it read, deliver its email once.

One module per concern; the names other apps use are re-exported here.
"""

from notifications.services.notices import (
    NotificationDraft,
    NotifyResult,
    notifications_create_many,
    notify,
)

__all__ = ["NotificationDraft", "NotifyResult", "notifications_create_many", "notify"]
