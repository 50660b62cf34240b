import pytest


@pytest.fixture
def tiny_limits(settings):
    """Every group limited to 3 calls a minute, so a test reaches the limit in a few requests."""
    settings.RATELIMIT_RATES = dict.fromkeys(["auth", "uploads", "ai", "system", "default"], "3/m")
    return 3
