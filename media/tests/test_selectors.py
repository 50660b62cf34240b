"""The contract with monitoring: storage_usage() and storage_status()."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import UserFactory
from etrainer.api.errors import ApplicationError
from media import storage
from media.checks import media_backend_configured
from media.selectors import media_asset_get, storage_status, storage_usage
from media.services import media_upload
from media.tests import samples
from media.tests.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db


def store_one(owner) -> None:
    media_upload(owner=owner, category="documents",
                 uploads=[SimpleUploadedFile("a.pdf", samples.pdf())])  # fmt: skip


def test_usage_from_cloudinary_through_the_admin_api(fake_cloudinary, learner):
    store_one(learner)

    usage = storage_usage()

    assert usage["backend"] == "cloudinary"
    assert usage["storage"] == {"usage": len(samples.pdf())}
    assert usage["resources"] == 1
    assert usage["recorded"] == {"assets": 1, "bytes": len(samples.pdf())}
    [call] = fake_cloudinary.api_calls("/usage")
    assert call["path"] == "/v1_1/demo-cloud/usage"
    assert call["basic_auth"] == "123456789012345:fake-secret"


def test_usage_of_local_storage(local_media, learner):
    store_one(learner)

    usage = storage_usage()

    assert usage["backend"] == "local"
    assert usage["disk"]["total"] >= usage["disk"]["free"] > 0
    assert usage["recorded"] == {"assets": 1, "bytes": len(samples.pdf())}


def test_usage_raises_503_while_cloudinary_fails(fake_cloudinary):
    fake_cloudinary.set_mode("error")

    with pytest.raises(ApplicationError) as caught:
        storage_usage()

    assert caught.value.status == 503


def test_status_pings_cloudinary_once_per_period(fake_cloudinary):
    first = storage_status()
    second = storage_status()

    assert first == second == (True, "cloudinary reachable")
    assert len(fake_cloudinary.api_calls("/ping")) == 1


def test_status_reports_a_failing_cloudinary_without_raising(fake_cloudinary):
    fake_cloudinary.set_mode("error")

    assert storage_status() == (False, "cloudinary error")


def test_status_is_down_without_calling_out_while_the_breaker_is_open(fake_cloudinary):
    for _ in range(3):
        storage.breaker.record_failure(RuntimeError("down"))

    assert storage_status() == (False, "circuit open")
    assert fake_cloudinary.calls() == []


def test_status_of_an_unconfigured_cloudinary(fake_cloudinary, settings):
    settings.CLOUDINARY_CLOUD_NAME = ""

    assert storage_status() == (False, "cloudinary not configured")


def test_status_of_local_storage(local_media):
    assert storage_status()[0] is True


def test_status_of_an_unwritable_local_root(settings, tmp_path):
    settings.MEDIA_BACKEND = "local"
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"

    assert storage_status()[0] is False


def test_cloudinary_url_is_read_for_credentials(settings):
    settings.CLOUDINARY_URL = "cloudinary://key123:secret456@my-cloud"

    assert storage.cloudinary_credentials() == {
        "cloud_name": "my-cloud", "api_key": "key123", "api_secret": "secret456",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("backend", "cloud_name", "ids"),
    [("local", "", []), ("cloudinary", "c", []), ("cloudinary", "", ["media.E002"]),
     ("s3", "", ["media.E001"])],
)  # fmt: skip
def test_system_check_of_the_media_backend(settings, backend, cloud_name, ids):
    settings.MEDIA_BACKEND = backend
    settings.CLOUDINARY_URL = ""
    settings.CLOUDINARY_CLOUD_NAME = cloud_name
    settings.CLOUDINARY_API_KEY = "k"
    settings.CLOUDINARY_API_SECRET = "s"

    assert [error.id for error in media_backend_configured(None)] == ids


def test_status_gives_up_on_a_hung_cloudinary_after_its_short_timeout(fake_cloudinary, settings):
    settings.MEDIA_CLOUDINARY_TIMEOUT = 0.2
    fake_cloudinary.set_mode("slow", delay=1.0)

    assert storage_status() == (False, "cloudinary error")


def test_a_hung_cloudinary_is_asked_once_per_check_not_retried(fake_cloudinary, settings):
    """urllib3 would retry a timed-out GET three times (4 x the timeout); the breaker is the retry
    policy, so the SDK sends each call once."""
    settings.MEDIA_CLOUDINARY_TIMEOUT = 0.2
    fake_cloudinary.set_mode("slow", delay=1.0)

    storage_status()

    assert len(fake_cloudinary.api_calls("/ping")) == 1


def test_an_asset_is_found_for_its_owner_and_staff_only(learner, staff_user):
    asset = MediaAssetFactory(owner=learner)

    assert media_asset_get(user=learner, public_id=asset.public_id) == asset
    assert media_asset_get(user=staff_user, public_id=asset.public_id) == asset
    with pytest.raises(ApplicationError) as caught:
        media_asset_get(user=UserFactory(), public_id=asset.public_id)
    assert caught.value.status == 404


def test_local_status_is_up_when_the_media_folder_can_be_created(local_media, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "not" / "yet" / "there"

    assert storage_status() == (True, "local storage can be created")
