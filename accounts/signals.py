"""Signals through which accounts reaches the apps above it without importing them.

accounts sits at the bottom of the app graph (learning, notifications, media, subscriptions point
at it), so what it needs from them comes back through these signals; each app connects its
receiver in ``AppConfig.ready``.
"""

from django.dispatch import Signal

# Sent with ``user``; each receiver returns ``{section name: JSON-ready data}`` of the person's
# data its app holds (``GET /api/me/export``).
user_data_export = Signal()

# Sent with ``user`` and ``email`` (an ``AccountEmail``); the receiver stores and queues it on the
# project's email path (queued after commit, retried, deduplicated by ``email.dedupe_key``).
account_email_requested = Signal()
