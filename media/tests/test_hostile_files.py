"""Hostile files (issue 17 item 8), optimize-url ownership (item 9) and what a local upload
records and answers (issue 21 item 14)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from media.models import MediaAsset
from media.tests import samples
from media.tests.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def post_files(client, category: str, *files):
    return client.post(f"/api/uploads/{category}", {"files": list(files)}, format="multipart")


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def assert_refused(response, status: int, code: str, backend) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert backend.nothing_stored()


# --- images are decoded --------------------------------------------------------------------


def test_a_20000_by_20000_png_is_413_before_decoding(media_backend, learner_client):
    bomb = samples.png_header_only(20_000, 20_000)

    response = post_files(learner_client, "images", upload("bomb.png", bomb))

    assert_refused(response, 413, "payload_too_large", media_backend)
    assert response.json()["error"]["details"]["max_pixels"] == 25_000_000


def test_a_png_just_over_the_limit_reports_its_size(media_backend, learner_client):
    bomb = samples.png_header_only(5001, 5000)

    response = post_files(learner_client, "images", upload("big.png", bomb))

    assert_refused(response, 413, "payload_too_large", media_backend)
    details = response.json()["error"]["details"]
    assert (details["width"], details["height"]) == (5001, 5000)


def test_a_65535_square_one_bit_png_is_413(media_backend, learner_client):
    bomb = samples.png_header_only(65_535, 65_535, bit_depth=1)

    response = post_files(learner_client, "images", upload("bomb.png", bomb))

    assert_refused(response, 413, "payload_too_large", media_backend)


def test_the_pixel_limit_comes_from_the_settings(media_backend, learner_client, settings):
    settings.UPLOAD_IMAGE_MAX_PIXELS = 11
    image = samples.pillow_image("PNG", size=(4, 3))

    response = post_files(learner_client, "images", upload("twelve.png", image))

    assert_refused(response, 413, "payload_too_large", media_backend)
    assert response.json()["error"]["details"]["max_pixels"] == 11


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_a_truncated_image_is_415(media_backend, learner_client, fmt):
    whole = samples.pillow_image(fmt, size=(64, 64))

    response = post_files(learner_client, "images", upload("cut.img", whole[: len(whole) // 2]))

    assert_refused(response, 415, "unsupported_media_type", media_backend)


def test_magic_bytes_without_an_image_are_415(media_backend, learner_client):
    response = post_files(learner_client, "images", upload("x.gif", b"GIF89a" + HTML))

    assert_refused(response, 415, "unsupported_media_type", media_backend)


def test_width_and_height_are_recorded_from_the_decoded_image(media_backend, learner_client):
    response = post_files(learner_client, "images", upload("wide.jpg", samples.jpeg()))

    assert response.status_code == 201, response.content
    body = response.json()["files"][0]
    assert (body["width"], body["height"]) == (4, 3)
    asset = MediaAsset.objects.get()
    assert (asset.width, asset.height) == (4, 3)


@pytest.mark.parametrize(
    ("fmt", "polyglot"),
    [
        ("PNG", lambda image: image + HTML),  # PNG+HTML: markup after IEND
        ("GIF", lambda image: image + b"*/=alert(1)//" + HTML),  # GIF+JS
        ("JPEG", lambda image: image[:2] + b"\xff\xfe\x00\x45" + HTML + image[2:]),  # in a COM
        ("GIF", lambda image: image[:-1] + b"\x21\xfe\x43" + HTML + b"\x00;"),  # GIF comment
    ],
)
def test_polyglot_images_are_stored_re_encoded_without_the_markup(
    local_media, learner_client, fmt, polyglot
):
    hostile = polyglot(samples.pillow_image(fmt, size=(8, 8)))

    response = post_files(learner_client, "images", upload("poly.img", hostile))

    assert response.status_code == 201, response.content
    [stored] = [path for path in local_media.rglob("*") if path.is_file()]
    data = stored.read_bytes()
    assert b"<script" not in data
    assert b"<html" not in data
    assert b"alert" not in data
    assert Image.open(io.BytesIO(data)).size == (8, 8)
    assert MediaAsset.objects.get().bytes == len(data)


# --- documents: a closed list, never markup ------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        HTML,
        b"<!DOCTYPE html><p>hello</p>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"Notes\n<img src=x onerror=alert(1)>\n",
    ],
    ids=["html", "doctype", "svg", "xml-svg", "img-onerror"],
)
def test_markup_sent_as_txt_is_415(media_backend, learner_client, content):
    response = post_files(learner_client, "documents", upload("notes.txt", content, "text/plain"))

    assert_refused(response, 415, "unsupported_media_type", media_backend)


def test_a_pdf_html_polyglot_is_415(media_backend, learner_client):
    polyglot = samples.pdf() + b"\n" + HTML

    response = post_files(learner_client, "documents", upload("doc.pdf", polyglot))

    assert_refused(response, 415, "unsupported_media_type", media_backend)


def test_markup_split_across_two_read_chunks_is_seen(media_backend, learner_client):
    content = b"a" * (64 * 1024 - 3) + b"<script>x</script>"

    response = post_files(learner_client, "documents", upload("notes.txt", content))

    assert_refused(response, 415, "unsupported_media_type", media_backend)


def test_text_with_angle_brackets_is_still_a_document(media_backend, learner_client):
    content = b"Rule: 3 < 5 and 7 > 2\nSee <https://example.org> for more.\n"

    response = post_files(learner_client, "documents", upload("maths.txt", content))

    assert response.status_code == 201, response.content


# --- local files are served safely ---------------------------------------------------------


def test_a_local_document_is_served_as_an_attachment_with_nosniff(local_media, learner_client):
    stored = post_files(learner_client, "documents", upload("notes.pdf", samples.pdf()))
    url = stored.json()["files"][0]["url"]

    response = learner_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == samples.pdf()


def test_a_local_image_is_served_inline_with_nosniff(local_media, learner_client):
    stored = post_files(learner_client, "images", upload("pic.png", samples.png()))

    response = learner_client.get(stored.json()["files"][0]["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "attachment" not in response.get("Content-Disposition", "")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/media/../etrainer/settings/base.py", "/media/nothing.png"])
def test_local_serving_answers_404_outside_or_missing(local_media, api_client, path):
    assert api_client.get(path).status_code == 404


# --- optimize-url: owner or staff only -----------------------------------------------------


def test_optimize_url_for_someone_elses_asset_is_404(fake_cloudinary, learner_client):
    theirs = MediaAssetFactory(owner=UserFactory(), backend="cloudinary")

    response = learner_client.post(
        "/api/uploads/optimize-url", {"public_id": theirs.public_id}, format="json"
    )

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


def test_optimize_url_for_an_unknown_id_is_404(fake_cloudinary, learner_client):
    response = learner_client.post(
        "/api/uploads/optimize-url", {"public_id": "etrainer/images/1/nobody_abc"}, format="json"
    )

    assert response.status_code == 404


def test_optimize_url_for_someone_elses_local_asset_is_404(local_media, learner_client):
    owner = bearer_client(UserFactory())
    public_id = post_files(owner, "images", upload("p.png", samples.png())).json()["files"][0][
        "public_id"
    ]

    response = learner_client.post(
        "/api/uploads/optimize-url", {"public_id": public_id}, format="json"
    )

    assert response.status_code == 404


def test_staff_gets_an_optimized_url_for_anyones_asset(fake_cloudinary, staff_client):
    asset = MediaAssetFactory(owner=UserFactory(), backend="cloudinary")

    response = staff_client.post(
        "/api/uploads/optimize-url", {"public_id": asset.public_id, "width": 50}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["url"].endswith(asset.public_id)


# --- what a local upload records (issue 21 item 14) ----------------------------------------


def test_a_local_upload_keeps_the_extension_in_original_name(local_media, learner_client):
    response = post_files(learner_client, "documents", upload("Week 1 notes.PDF", samples.pdf()))

    assert response.json()["files"][0]["original_name"] == "Week-1-notes.PDF"
    assert MediaAsset.objects.get().original_name == "Week-1-notes.PDF"


def test_a_local_upload_answers_an_absolute_url(local_media, learner_client):
    response = post_files(learner_client, "images", upload("pic.png", samples.png()))

    body = response.json()["files"][0]
    assert body["url"] == f"http://testserver/media/{body['public_id']}.png"
    info = learner_client.get(f"/api/uploads/{body['public_id']}/info").json()
    assert info["url"] == body["url"]
    assert info["storage"]["url"] == body["url"]
    optimized = learner_client.post(
        "/api/uploads/optimize-url", {"public_id": body["public_id"]}, format="json"
    )
    assert optimized.json()["url"] == body["url"]
