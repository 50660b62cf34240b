import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from learning.models import ExamHistory, Streak


class ExamHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExamHistory

    user = factory.SubFactory(UserFactory)
    exam_code = factory.Sequence(lambda n: f"EXAM-{n % 3}")
    score = 70
    max_score = 100
    duration_s = 1200
    taken_at = factory.LazyFunction(timezone.now)


class StreakFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Streak

    user = factory.SubFactory(UserFactory)
    current = 0
    longest = 0
    last_active_on = None
