import factory

from accounts.tests.factories import UserFactory
from notifications.models import Notification, NotificationChannel, NotificationKind


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = NotificationKind.SYSTEM
    channel = NotificationChannel.IN_APP
    title = factory.Sequence(lambda n: f"Notice {n}")
    body = "Something happened."
    payload = factory.LazyFunction(dict)
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
