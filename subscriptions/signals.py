"""Cache invalidation on every model write that bypasses the services (admin, shell, fixtures).

Services that write with ``update()`` (which sends no signals) invalidate explicitly; these
receivers catch ``save()`` and ``delete()``. Both go through ``subscriptions.cache``. A model whose
rows show in a public list (a plan's prices) connects its own receiver here that calls
``invalidate_plan_list()`` / ``invalidate_course_list()`` (``subscriptions.list_cache``).
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from subscriptions import cache as access_cache
from subscriptions.list_cache import invalidate_course_list, invalidate_plan_list
from subscriptions.models import (
    AiTokenAccount,
    Course,
    CourseGrant,
    Plan,
    PlanPrice,
    Subscription,
)


@receiver([post_save, post_delete], sender=Subscription, dispatch_uid="subs_sub_cache")
def _subscription_changed(sender, instance, **kwargs):
    access_cache.invalidate(instance.user_id, "sub")


@receiver([post_save, post_delete], sender=CourseGrant, dispatch_uid="subs_grant_cache")
def _grant_changed(sender, instance, **kwargs):
    access_cache.invalidate(instance.user_id, "grants")


@receiver([post_save, post_delete], sender=AiTokenAccount, dispatch_uid="subs_ai_cache")
def _token_account_changed(sender, instance, **kwargs):
    access_cache.invalidate(instance.user_id, "ai")


@receiver([post_save, post_delete], sender=Plan, dispatch_uid="subs_plan_cache")
def _plan_changed(sender, instance, **kwargs):
    """Every cached subscription embeds its plan: bump the family instead of scanning keys. The
    plan list shows it too."""
    access_cache.invalidate_family("sub")
    invalidate_plan_list()


@receiver([post_save, post_delete], sender=PlanPrice, dispatch_uid="subs_plan_price_cache")
def _plan_price_changed(sender, instance, **kwargs):
    """The plan list shows every price of every plan."""
    invalidate_plan_list()


@receiver([post_save, post_delete], sender=Course, dispatch_uid="subs_course_cache")
def _course_changed(sender, instance, **kwargs):
    access_cache.invalidate_course(instance.pk)
    invalidate_course_list()


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="subs_user_cache")
def _user_saved(sender, instance, **kwargs):
    """Deactivation, role or staff changes reach the hot-path authentication at once."""
    access_cache.invalidate(instance.pk, "user")


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="subs_user_deleted_cache")
def _user_deleted(sender, instance, **kwargs):
    access_cache.invalidate_user(instance.pk)
