"""Deleting a user deletes their files in storage too (their rows cascade).

A signal because a user is deleted from several places (the admin, a shell, account deletion)
and accounts must not import media; the receiver only hands over to the service.
"""

from django.conf import settings
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from media.services import media_delete_owned


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="media-delete-owned")
def delete_owned_media(sender, instance, **kwargs) -> None:
    media_delete_owned(owner=instance)
