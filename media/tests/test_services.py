import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from prometheus_client import REGISTRY

from etrainer.api.errors import ApplicationError
from media.models import MediaAsset
from media.services import media_delete, media_upload
from media.tests import samples

pytestmark = pytest.mark.django_db


def images(count: int) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"p{i}.png", samples.png()) for i in range(count)]


def test_a_failure_mid_batch_removes_what_the_batch_stored(fake_cloudinary, learner):
    # given: Cloudinary takes the first upload, then fails
    fake_cloudinary.set_mode("error", uploads_ok=1)

    # when
    with pytest.raises(ApplicationError) as caught:
        media_upload(owner=learner, category="images", uploads=images(3))

    # then: 503, the first file destroyed again, no record left
    assert caught.value.status == 503
    [stored] = fake_cloudinary.api_calls("/image/upload")[:1]
    [destroyed] = fake_cloudinary.api_calls("/image/destroy")
    assert destroyed["fields"]["public_id"] == stored["fields"]["public_id"]
    assert not MediaAsset.objects.exists()


def test_a_file_that_cannot_be_removed_keeps_its_record(fake_cloudinary, learner):
    # given: after the first upload, Cloudinary fails everything, destroy included
    fake_cloudinary.set_mode("error", uploads_ok=1, scope="all")

    # when
    with pytest.raises(ApplicationError):
        media_upload(owner=learner, category="images", uploads=images(2))

    # then: the stored file still has its record, so its owner can see and delete it later
    [stored] = fake_cloudinary.api_calls("/image/upload")[:1]
    assert fake_cloudinary.api_calls("/image/destroy")
    assert MediaAsset.objects.get().public_id == stored["fields"]["public_id"]


def uploaded_bytes(category: str) -> float:
    sample = REGISTRY.get_sample_value("etrainer_upload_bytes_total", {"category": category})
    return sample or 0.0


def test_upload_bytes_are_counted_per_category(local_media, learner):
    before = uploaded_bytes("documents")

    media_upload(owner=learner, category="documents",
                 uploads=[SimpleUploadedFile("a.pdf", samples.pdf())])  # fmt: skip

    after = uploaded_bytes("documents")
    assert after - before == len(samples.pdf())


def test_delete_completes_when_storage_already_lost_the_file(fake_cloudinary, learner):
    [asset] = media_upload(owner=learner, category="images", uploads=images(1))
    fake_cloudinary.reset()  # Cloudinary forgets it: destroy answers "not found"

    media_delete(user=learner, public_id=asset.public_id)

    assert not MediaAsset.objects.exists()


def test_delete_keeps_the_record_while_cloudinary_is_down(fake_cloudinary, learner):
    [asset] = media_upload(owner=learner, category="images", uploads=images(1))
    fake_cloudinary.set_mode("error")

    with pytest.raises(ApplicationError) as caught:
        media_delete(user=learner, public_id=asset.public_id)

    assert caught.value.status == 503
    assert MediaAsset.objects.filter(pk=asset.pk).exists()
