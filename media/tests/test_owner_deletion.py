"""Deleting a user deletes their media: rows and files (issue 17 item 13)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import bearer_client
from etrainer.db import atomic
from media.models import MediaAsset
from media.tests import samples

pytestmark = pytest.mark.django_db


def _upload(client, category: str, name: str, content: bytes) -> str:
    response = client.post(
        f"/api/uploads/{category}",
        {"files": [SimpleUploadedFile(name, content)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()["files"][0]["public_id"]


def test_deleting_a_user_removes_their_files_and_rows_only(
    media_backend, django_capture_on_commit_callbacks
):
    # given: a learner with an image and a document, and another learner's image
    leaver, stayer = UserFactory(), UserFactory()
    mine = [
        _upload(bearer_client(leaver), "images", "me.png", samples.png()),
        _upload(bearer_client(leaver), "documents", "cv.pdf", samples.pdf()),
    ]
    kept = _upload(bearer_client(stayer), "images", "other.png", samples.png())

    # when
    with django_capture_on_commit_callbacks(execute=True):
        leaver.delete()

    # then
    assert list(MediaAsset.objects.values_list("public_id", flat=True)) == [kept]
    if media_backend.fake is not None:
        destroyed = {
            call["fields"]["public_id"] for call in media_backend.fake.calls()
            if call["path"].endswith("/destroy")
        }  # fmt: skip
        assert destroyed == set(mine)
    else:
        stored = media_backend.stored_files()
        assert len(stored) == 1
        assert kept in stored[0]


def test_a_rolled_back_user_deletion_keeps_the_files(local_media):
    user = UserFactory()
    user_id = user.pk
    _upload(bearer_client(user), "images", "me.png", samples.png())

    def delete_then_fail():
        with atomic():
            user.delete()
            raise RuntimeError("the caller failed after the deletion")

    with pytest.raises(RuntimeError):
        delete_then_fail()

    assert User.objects.filter(pk=user_id).exists()
    assert [path for path in local_media.rglob("*") if path.is_file()]
