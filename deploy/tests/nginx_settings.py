"""The app behind nginx in the nginx test: the test settings plus one cheap probe route."""

from etrainer.settings.test import *  # noqa: F403

ROOT_URLCONF = "deploy.tests.nginx_urls"
