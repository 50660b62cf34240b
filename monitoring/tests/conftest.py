"""Monitoring fixtures: media storage pointed at a Cloudinary that does not answer."""

import pytest

from media import storage
from testsupport.processes import free_port


@pytest.fixture
def unreachable_cloudinary(settings):
    """The real SDK aimed at a closed loopback port; media's breaker and ping cache restored."""
    settings.MEDIA_BACKEND = "cloudinary"
    settings.CLOUDINARY_URL = ""
    settings.CLOUDINARY_CLOUD_NAME = "etrainer-test"
    settings.CLOUDINARY_API_KEY = "key"
    settings.CLOUDINARY_API_SECRET = "secret"
    settings.CLOUDINARY_UPLOAD_PREFIX = f"http://127.0.0.1:{free_port()}"
    settings.MEDIA_CLOUDINARY_TIMEOUT = 0.5
    storage.forget_status()
    storage.breaker.reset()
    yield
    storage.forget_status()
    storage.breaker.reset()
