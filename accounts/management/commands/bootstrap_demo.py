"""Create a staff and a learner account on an empty database, once, and print how to log in."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User, UserRole
from accounts.services import user_create


class Command(BaseCommand):
    help = "On an empty database, create the demo staff and learner accounts and print credentials."

    def handle(self, *args, **options):
        if User.objects.exists():
            self.stdout.write("Users exist already; demo accounts not created.")
            return
        accounts = [
            (settings.DEMO_STAFF_EMAIL, settings.DEMO_STAFF_PASSWORD, UserRole.STAFF, True),
            (settings.DEMO_LEARNER_EMAIL, settings.DEMO_LEARNER_PASSWORD, UserRole.LEARNER, False),
        ]
        self.stdout.write(self.style.SUCCESS("Demo accounts created (shown once):"))
        for email, password, role, is_staff in accounts:
            password = password or secrets.token_urlsafe(12)
            user_create(email=email, password=password, role=role, is_staff=is_staff)
            self.stdout.write(f"  {role:<8} {email}  password: {password}")
