import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError

from accounts.models import User
from accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_case_and_unique_regardless_of_case():
    user_create(email="Mixed.Case@Example.com", password="a-long-password-1")

    assert User.objects.get().email == "mixed.case@example.com"
    with pytest.raises(ValidationError):
        user_create(email="MIXED.case@example.com", password="a-long-password-1")
    with pytest.raises(IntegrityError):
        User.objects.create_user(email="mixed.CASE@example.com", password="x")


def test_unknown_timezone_is_rejected():
    with pytest.raises(ValidationError):
        user_create(email="tz@example.com", password="a-long-password-1", timezone="Nowhere/City")


def test_create_superuser_is_staff_with_staff_role():
    admin = User.objects.create_superuser(email="root@example.com", password="pw")

    assert admin.is_staff
    assert admin.is_superuser
    assert admin.role == "staff"


def test_bootstrap_demo_creates_both_accounts_once(capsys, settings):
    settings.DEMO_LEARNER_PASSWORD = "learner-demo-pass-42"

    call_command("bootstrap_demo")
    first = capsys.readouterr().out
    call_command("bootstrap_demo")
    second = capsys.readouterr().out

    assert User.objects.filter(is_staff=True).count() == 1
    assert User.objects.filter(role="learner").count() == 1
    assert "learner-demo-pass-42" in first
    assert "not created" in second
    learner = User.objects.get(role="learner")
    assert learner.check_password("learner-demo-pass-42")
