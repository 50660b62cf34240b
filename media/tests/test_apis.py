"""The upload endpoints, each run on the local filesystem and on the fake Cloudinary server."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from media.models import MediaAsset
from media.tests import samples
from media.tests.factories import MediaAssetFactory

MB = 1024 * 1024

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_files(client, category: str, *files, field: str = "files"):
    return client.post(f"/api/uploads/{category}", {field: list(files)}, format="multipart")


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


# --- accepted uploads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "sample", "fmt"),
    [
        ("images", samples.png, "png"),
        ("images", samples.jpeg, "jpg"),
        ("images", samples.webp, "webp"),
        ("images", samples.gif, "gif"),
        ("audio", samples.mp3, "mp3"),
        ("audio", samples.wav, "wav"),
        ("audio", samples.ogg, "ogg"),
        ("audio", samples.m4a, "m4a"),
        ("audio", samples.aac, "aac"),
        ("videos", samples.mp4, "mp4"),
        ("videos", samples.webm, "webm"),
        ("videos", samples.mov, "mov"),
        ("documents", samples.pdf, "pdf"),
        ("documents", samples.docx, "docx"),
        ("documents", samples.xlsx, "xlsx"),
        ("documents", samples.pptx, "pptx"),
        ("documents", samples.text, "txt"),
    ],
)
def test_each_allowed_type_is_stored_and_recorded(
    media_backend, learner, learner_client, category, sample, fmt
):
    # when: the name and the client's type say nothing true about the file
    response = post_files(learner_client, category, upload("upload.bin", sample(), "text/html"))

    # then
    assert response.status_code == 201, response.content
    [body] = response.json()["files"]
    asset = MediaAsset.objects.get(public_id=body["public_id"])
    assert asset.owner == learner
    assert asset.format == fmt
    if category == "images":  # re-encoded: the decoded image's size is recorded
        assert (asset.width, asset.height) == (body["width"], body["height"]) != (None, None)
    else:
        assert asset.bytes == len(sample())
    assert body["public_id"].startswith(f"etrainer/{category}/{learner.pk}/upload_")
    assert isinstance(body["id"], str)
    assert len(media_backend.stored_files()) == 1


def test_several_images_in_one_request(media_backend, learner_client):
    files = [upload(f"photo{i}.png", samples.png()) for i in range(5)]

    response = post_files(learner_client, "images", *files)

    assert response.status_code == 201, response.content
    assert len(response.json()["files"]) == 5
    assert MediaAsset.objects.count() == 5
    assert len(media_backend.stored_files()) == 5


def test_a_single_file_field_is_accepted(media_backend, learner_client):
    response = post_files(learner_client, "documents", upload("notes.pdf", samples.pdf()),
                          field="file")  # fmt: skip

    assert response.status_code == 201, response.content
    assert response.json()["files"][0]["public_id"].endswith(".pdf")


def test_cloudinary_receives_a_signed_upload_under_our_public_id(fake_cloudinary, learner_client):
    response = post_files(learner_client, "images", upload("Summer Holiday!.png", samples.png()))

    [call] = fake_cloudinary.api_calls("/image/upload")
    body = response.json()["files"][0]
    assert call["path"] == "/v1_1/demo-cloud/image/upload"
    assert call["fields"]["public_id"] == body["public_id"]
    assert call["fields"]["signature"]
    assert call["file"]["size"] == body["bytes"]
    assert body["public_id"].split("/")[-1].startswith("Summer-Holiday_")
    assert (body["width"], body["height"]) == (1, 1)  # decoded by us, not Cloudinary's word
    assert body["url"].startswith("https://res.cloudinary.com/demo-cloud/")


def test_a_file_cloudinary_refuses_is_400_and_not_recorded(fake_cloudinary, learner_client):
    response = post_files(learner_client, "images", upload("reject-me.png", samples.png()))

    assert_error(response, 400, "validation_error")
    assert response.json()["error"]["details"]["reason"].endswith("Invalid image file")
    assert not MediaAsset.objects.exists()


def test_wrong_cloudinary_credentials_are_503(fake_cloudinary, learner_client):
    fake_cloudinary.set_mode("unauthorized")

    response = post_files(learner_client, "images", upload("a.png", samples.png()))

    assert_error(response, 503, "service_unavailable")
    assert not MediaAsset.objects.exists()


def test_the_local_file_lands_under_media_root_with_the_sniffed_extension(
    local_media, learner_client
):
    response = post_files(learner_client, "images", upload("photo.gif", samples.png()))

    public_id = response.json()["files"][0]["public_id"]
    assert (local_media / f"{public_id}.png").read_bytes().startswith(b"\x89PNG")
    assert response.json()["files"][0]["url"] == f"http://testserver/media/{public_id}.png"


# --- rejections: envelope, nothing stored, no Cloudinary call ---------------------------------


def test_an_image_one_byte_over_10_mb_is_413(media_backend, learner_client):
    big = samples.png() + b"\x00" * (10 * MB + 1 - len(samples.png()))

    response = post_files(learner_client, "images", upload("big.png", big))

    assert_error(response, 413, "payload_too_large")
    assert media_backend.nothing_stored()


def test_an_image_of_exactly_10_mb_is_accepted(media_backend, learner_client):
    exact = samples.png() + b"\x00" * (10 * MB - len(samples.png()))

    response = post_files(learner_client, "images", upload("exact.png", exact))

    assert response.status_code == 201, response.content


def test_six_images_are_400_and_none_is_stored(media_backend, learner_client):
    files = [upload(f"photo{i}.png", samples.png()) for i in range(6)]

    response = post_files(learner_client, "images", *files)

    assert_error(response, 400, "validation_error")
    assert response.json()["error"]["details"] == {"max_files": 5, "received": 6}
    assert media_backend.nothing_stored()


def test_more_files_than_django_parses_is_400(media_backend, learner_client):
    files = [upload(f"photo{i}.png", samples.png()) for i in range(11)]

    response = post_files(learner_client, "images", *files)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in {"bad_request", "validation_error"}
    assert media_backend.nothing_stored()


def test_a_pdf_renamed_jpg_is_415(media_backend, learner_client):
    response = post_files(
        learner_client, "images", upload("holiday.jpg", samples.pdf(), "image/jpeg")
    )

    assert_error(response, 415, "unsupported_media_type")
    assert response.json()["error"]["details"]["detected"] == "application/pdf"
    assert media_backend.nothing_stored()


def test_an_empty_file_is_400(media_backend, learner_client):
    response = post_files(learner_client, "documents", upload("empty.txt", b""))

    assert_error(response, 400, "validation_error")
    assert media_backend.nothing_stored()


def test_a_video_sent_to_images_is_415(media_backend, learner_client):
    response = post_files(learner_client, "images", upload("clip.png", samples.mp4(), "image/png"))

    assert_error(response, 415, "unsupported_media_type")
    assert media_backend.nothing_stored()


def test_one_bad_file_in_a_batch_stores_none(media_backend, learner_client):
    files = [upload("a.png", samples.png()), upload("b.png", samples.pdf())]

    response = post_files(learner_client, "images", *files)

    assert_error(response, 415, "unsupported_media_type")
    assert media_backend.nothing_stored()


@pytest.mark.parametrize(
    "content",
    [
        b"plain\x00text with a NUL",
        b"\xff\xfe not utf-8",
        b"\x1b[31m escape codes",
        samples.plain_zip(),
    ],
)
def test_documents_refuse_what_is_not_strict_text_or_an_allowed_format(
    media_backend, learner_client, content
):
    response = post_files(learner_client, "documents", upload("notes.txt", content, "text/plain"))

    assert_error(response, 415, "unsupported_media_type")
    assert media_backend.nothing_stored()


def test_no_file_at_all_is_400(media_backend, learner_client):
    response = learner_client.post("/api/uploads/images", {"other": "x"}, format="multipart")

    assert_error(response, 400, "validation_error")


def test_a_json_body_is_415(media_backend, learner_client):
    response = learner_client.post("/api/uploads/images", {"files": []}, format="json")

    assert_error(response, 415, "unsupported_media_type")


def test_a_declared_body_larger_than_any_allowed_batch_is_413_before_parsing(learner_client):
    response = learner_client.generic(
        "POST", "/api/uploads/videos", b"", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(200 * MB),
    )  # fmt: skip

    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd"])
def test_a_path_in_the_name_is_stored_under_a_safe_id(media_backend, learner, learner_client, name):
    response = post_files(learner_client, "documents", upload(name, samples.text()))

    assert response.status_code == 201, response.content
    public_id = response.json()["files"][0]["public_id"]
    folder, _, base = public_id.rpartition("/")
    assert folder == f"etrainer/documents/{learner.pk}"
    assert ".." not in public_id
    assert base.split("_")[0] in {"passwd", "win"}
    if media_backend.root is not None:
        [stored] = media_backend.stored_files()
        assert stored.startswith(str(media_backend.root))


def test_anonymous_uploads_are_401(media_backend, api_client):
    response = post_files(api_client, "images", upload("a.png", samples.png()))

    assert_error(response, 401, "not_authenticated")
    assert media_backend.nothing_stored()


# --- info and delete: owner or staff only -----------------------------------------------------


@pytest.fixture
def uploaded(media_backend, learner_client):
    response = post_files(learner_client, "images", upload("mine.png", samples.png()))
    assert response.status_code == 201, response.content
    return response.json()["files"][0]["public_id"]


def test_owner_sees_info_from_storage(media_backend, learner_client, uploaded):
    response = learner_client.get(f"/api/uploads/{uploaded}/info")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["public_id"] == uploaded
    assert body["storage"]["bytes"] == body["bytes"]
    if media_backend.fake:
        assert media_backend.fake.api_calls(f"/resources/image/upload/{uploaded}")


def test_another_learner_gets_404_for_info_and_delete(media_backend, uploaded):
    other = bearer_client(UserFactory())

    info = other.get(f"/api/uploads/{uploaded}/info")
    deleted = other.delete(f"/api/uploads/{uploaded}")

    assert_error(info, 404, "not_found")
    assert_error(deleted, 404, "not_found")
    assert MediaAsset.objects.filter(public_id=uploaded).exists()
    if media_backend.fake:
        assert not media_backend.fake.api_calls("/destroy")


def test_a_missing_id_answers_the_same_404(media_backend, learner_client):
    response = learner_client.get("/api/uploads/etrainer/images/1/nothing_000000000000/info")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/api/uploads/a/../b/info", "/api/uploads/a//b/info", "/api/uploads/.hidden"]
)
def test_ids_outside_the_strict_charset_are_404(learner_client, path):
    response = learner_client.get(path)

    assert_error(response, 404, "not_found")


def test_staff_sees_info_and_deletes_anyones_upload(media_backend, staff_client, uploaded):
    info = staff_client.get(f"/api/uploads/{uploaded}/info")
    deleted = staff_client.delete(f"/api/uploads/{uploaded}")

    assert info.status_code == 200, info.content
    assert deleted.status_code == 204
    assert not MediaAsset.objects.exists()
    assert not media_backend.stored_files() or media_backend.fake is not None
    if media_backend.fake:
        [call] = media_backend.fake.api_calls("/image/destroy")
        assert call["fields"]["public_id"] == uploaded


def test_owner_deletes_and_storage_forgets_the_file(media_backend, learner_client, uploaded):
    response = learner_client.delete(f"/api/uploads/{uploaded}")

    assert response.status_code == 204
    assert not MediaAsset.objects.exists()
    assert_error(learner_client.get(f"/api/uploads/{uploaded}/info"), 404, "not_found")
    if media_backend.root is not None:
        assert media_backend.stored_files() == []


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_info_reads_the_asset_in_one_query(media_backend, learner_client, staff_client, uploaded,
                                           who):  # fmt: skip
    client = learner_client if who == "owner" else staff_client

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/uploads/{uploaded}/info")

    assert response.status_code == 200
    asset_queries = [q["sql"] for q in queries.captured_queries if "media_mediaasset" in q["sql"]]
    assert len(asset_queries) == 1


# --- optimize-url -----------------------------------------------------------------------------


def test_optimize_url_builds_a_transformation_url_without_calling_out(
    fake_cloudinary, learner, learner_client
):
    MediaAssetFactory(owner=learner, public_id="etrainer/images/1/photo_abc", backend="cloudinary")

    response = learner_client.post(
        "/api/uploads/optimize-url",
        {"public_id": "etrainer/images/1/photo_abc", "width": 300, "height": 200, "crop": "fill"},
        format="json",
    )

    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url.startswith("https://res.cloudinary.com/demo-cloud/image/upload/")
    assert all(part in url for part in ("c_fill", "f_auto", "h_200", "q_auto", "w_300"))
    assert url.endswith("/etrainer/images/1/photo_abc")
    assert fake_cloudinary.calls() == []


@pytest.mark.parametrize(
    "payload",
    [
        {"public_id": "a/b", "width": 0},
        {"public_id": "a/b", "width": 4001},
        {"public_id": "a/b", "crop": "explode"},
        {"public_id": "a/b", "quality": "100"},
        {"public_id": "../etc/passwd"},
        {"public_id": "a/b", "resource_type": "raw"},
        {},
    ],
)
def test_optimize_url_validates_its_input(fake_cloudinary, learner_client, payload):
    response = learner_client.post("/api/uploads/optimize-url", payload, format="json")

    assert_error(response, 400, "validation_error")


def test_optimize_url_on_local_storage_answers_the_plain_url(local_media, learner_client):
    stored = post_files(learner_client, "images", upload("mine.png", samples.png()))
    uploaded = stored.json()["files"][0]["public_id"]

    response = learner_client.post(
        "/api/uploads/optimize-url", {"public_id": uploaded, "width": 100}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "url": f"http://testserver/media/{uploaded}.png",
        "transformed": False,
    }
