"""nginx.conf's body limits against the app's own per-request maxima (no nginx needed)."""

import re

import pytest

from deploy.tests.nginx_harness import NGINX_CONF
from media.validation import Category, request_max_bytes

UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def location_body_limit(conf: str, location: str) -> int:
    block = re.search(rf"location = {re.escape(location)} \{{(.*?)\}}", conf, re.DOTALL)
    assert block, f"nginx.conf has no `location = {location}` block"
    size = re.search(r"client_max_body_size (\d+)([kmg]?);", block[1], re.IGNORECASE)
    assert size, f"`location = {location}` sets no client_max_body_size"
    return int(size[1]) * UNITS[size[2].lower()]


@pytest.mark.parametrize("category", list(Category))
def test_each_upload_route_accepts_exactly_what_the_app_accepts(category):
    conf = NGINX_CONF.read_text()

    limit = location_body_limit(conf, f"/api/uploads/{category}")

    assert limit == request_max_bytes(category)
