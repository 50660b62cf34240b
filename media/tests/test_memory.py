"""A 100 MB video goes through the endpoint with bounded Python memory.

The request body streams from a file on disk into the WSGI handler (the test client would build
the whole body in memory first), so tracemalloc sees only what the server side allocates: the
multipart parser, the temporary upload file, sniffing, and the storage call (Cloudinary's chunked
upload to the fake server, which runs in its own process, or a move under MEDIA_ROOT).
"""

import tracemalloc

import pytest
from django.test.client import ClientHandler
from rest_framework_simplejwt.tokens import RefreshToken

from media.models import MediaAsset
from media.tests import samples

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MB = 1024 * 1024
VIDEO_BYTES = 100 * MB
BOUNDARY = "----etrainer-memory-test"


def write_multipart_body(path, size: int) -> int:
    header = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="files"; filename="lecture.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    video_head = samples.mp4_header()
    with path.open("wb") as body:
        body.write(header + video_head)
        remaining = size - len(video_head)
        block = b"\x00" * MB
        while remaining > 0:
            body.write(block[: min(MB, remaining)])
            remaining -= MB
        body.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def call_endpoint(body_path, length: int, user, *, trace: bool = True) -> tuple[int, bytes, int]:
    """POST the body file through Django's WSGI handling; return status, content, peak bytes."""
    token = RefreshToken.for_user(user).access_token
    handler = ClientHandler(enforce_csrf_checks=False)
    with body_path.open("rb") as stream:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/uploads/videos",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "CONTENT_LENGTH": str(length),
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.input": stream,
            "wsgi.url_scheme": "http",
            "wsgi.errors": None,
        }
        if not trace:
            return handler(environ).status_code, b"", 0
        tracemalloc.start()
        try:
            response = handler(environ)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return response.status_code, response.content, peak


@pytest.mark.parametrize("backend", ["cloudinary", "local"])
def test_a_100_mb_video_uploads_with_peak_python_memory_under_16_mb(
    request, learner, tmp_path, backend
):
    # given: a worker that has served an upload before (first-request imports are not the
    # upload's memory), and the 100 MB request body on disk
    media_backend = request.getfixturevalue("fake_cloudinary" if backend == "cloudinary"
                                            else "local_media")  # fmt: skip
    warm_up = tmp_path / "warm-up.bin"
    assert call_endpoint(warm_up, write_multipart_body(warm_up, MB), learner, trace=False)[0] == 201
    MediaAsset.objects.all().delete()
    if backend == "cloudinary":
        media_backend.reset()
    body_path = tmp_path / "body.bin"
    length = write_multipart_body(body_path, VIDEO_BYTES)

    # when
    status, content, peak = call_endpoint(body_path, length, learner)

    # then
    assert status == 201, content
    asset = MediaAsset.objects.get()
    assert asset.bytes == VIDEO_BYTES
    assert peak < 16 * MB, f"peak {peak / MB:.1f} MB"
    if backend == "cloudinary":
        chunks = media_backend.api_calls("/video/upload")
        assert len(chunks) > 1
        assert sum(call["file"]["size"] for call in chunks) == VIDEO_BYTES
    else:
        assert (media_backend / f"{asset.public_id}.mp4").stat().st_size == VIDEO_BYTES
