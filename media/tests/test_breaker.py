"""Cloudinary failing or hanging: the breaker opens, uploads answer 503 fast without calling out,
and it closes again after its reset time."""

import statistics
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from etrainer.api.errors import ApplicationError
from media import storage
from media.models import MediaAsset
from media.tests import samples

pytestmark = pytest.mark.django_db


def post_image(client):
    image = SimpleUploadedFile("a.png", samples.png(), content_type="image/png")
    return client.post("/api/uploads/images", {"files": [image]}, format="multipart")


def timed_post(client) -> tuple[int, float]:
    started = time.perf_counter()
    response = post_image(client)
    return response.status_code, time.perf_counter() - started


@pytest.fixture
def short_breaker(fake_cloudinary, settings):
    settings.MEDIA_BREAKER_FAILURES = 3
    settings.MEDIA_BREAKER_RESET_SECONDS = 0.5
    settings.MEDIA_CLOUDINARY_TIMEOUT = 0.3
    return fake_cloudinary


@pytest.mark.parametrize(("mode", "delay"), [("error", 0.0), ("slow", 1.0)])
def test_breaker_opens_answers_fast_and_closes_after_reset(
    short_breaker, learner_client, mode, delay
):
    fake = short_breaker
    fake.set_mode(mode, delay)

    # given: three failures (500s or timeouts) reach Cloudinary and each answers 503
    for _ in range(3):
        response = post_image(learner_client)
        assert response.status_code == 503, response.content
        assert response.json()["error"]["code"] == "service_unavailable"
    assert len(fake.api_calls("/upload")) == 3

    # when: the breaker is open
    answers = [timed_post(learner_client) for _ in range(5)]

    # then: 503 at once, Cloudinary never called, nothing recorded
    assert {status for status, _ in answers} == {503}
    assert statistics.median(seconds for _, seconds in answers) < 0.05
    assert max(seconds for _, seconds in answers) < 0.3
    assert len(fake.api_calls("/upload")) == 3
    assert not MediaAsset.objects.exists()

    # and: once Cloudinary is back and the reset time has passed, the next upload goes through
    fake.set_mode("ok")
    time.sleep(0.6)
    assert post_image(learner_client).status_code == 201
    assert len(fake.api_calls("/upload")) == 4


def test_a_failed_probe_opens_the_breaker_again(short_breaker, learner_client):
    short_breaker.set_mode("error")
    for _ in range(3):
        post_image(learner_client)
    time.sleep(0.6)

    probe = post_image(learner_client)
    after_probe = post_image(learner_client)

    assert (probe.status_code, after_probe.status_code) == (503, 503)
    assert len(short_breaker.api_calls("/upload")) == 4


def test_refusals_from_cloudinary_do_not_open_the_breaker(short_breaker, learner_client):
    """A 404 from the Admin API means Cloudinary is up; it must not count as an outage."""
    for _ in range(5):
        with pytest.raises(ApplicationError) as caught:
            storage.get_backend().info("etrainer/images/1/x", resource_type="raw", extension="x")
        assert caught.value.status == 404

    assert not storage.breaker.is_open
    assert len(short_breaker.api_calls("/resources/raw/upload/etrainer/images/1/x")) == 5
