"""Media fixtures: the fake Cloudinary server (its own process) and the two storage backends."""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3

from media import storage
from media.models import MediaAsset

ROOT = Path(__file__).resolve().parents[2]
CLOUD = "demo-cloud"
API_KEY = "123456789012345"
API_SECRET = "fake-secret"


class FakeCloudinary:
    """Handle on the fake server process: its URL, the calls it received, its failure mode."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "media.tests.fake_cloudinary"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{port}"
        self.http = urllib3.PoolManager(retries=False, timeout=5)

    def calls(self) -> list[dict]:
        return json.loads(self.http.request("GET", f"{self.url}/__calls").data)["calls"]

    def api_calls(self, action: str) -> list[dict]:
        return [call for call in self.calls() if call["path"].endswith(action)]

    def reset(self) -> None:
        self.http.request("POST", f"{self.url}/__reset")

    def set_mode(
        self, mode: str, delay: float = 0.0, uploads_ok: int | None = None, scope: str = "uploads"
    ) -> None:
        query = f"mode={mode}&delay={delay}&scope={scope}"
        if uploads_ok is not None:
            query += f"&uploads_ok={uploads_ok}"
        self.http.request("POST", f"{self.url}/__mode?{query}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)
        self.process.stdout.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The suite currently runs under etrainer.settings.local (see the report to the lead), whose
    PBKDF2 costs ~0.7 s per user created by the factories."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def fake_cloudinary_server():
    server = FakeCloudinary()
    yield server
    server.stop()


@pytest.fixture
def fake_cloudinary(fake_cloudinary_server, settings):
    """Cloudinary as the backend, the SDK pointed at the fake server, a closed breaker."""
    fake_cloudinary_server.reset()
    settings.MEDIA_BACKEND = "cloudinary"
    settings.CLOUDINARY_URL = ""
    settings.CLOUDINARY_CLOUD_NAME = CLOUD
    settings.CLOUDINARY_API_KEY = API_KEY
    settings.CLOUDINARY_API_SECRET = API_SECRET
    settings.CLOUDINARY_UPLOAD_PREFIX = fake_cloudinary_server.url
    settings.MEDIA_CLOUDINARY_TIMEOUT = 5.0
    settings.MEDIA_BREAKER_FAILURES = 3
    settings.MEDIA_BREAKER_RESET_SECONDS = 30.0
    storage.breaker.reset()
    storage.forget_status()
    yield fake_cloudinary_server
    storage.breaker.reset()
    storage.forget_status()


@pytest.fixture
def local_media(settings, tmp_path):
    settings.MEDIA_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@dataclass
class Backend:
    """What a test needs to know about the backend it runs on, whichever it is."""

    name: str
    fake: FakeCloudinary | None
    root: Path | None

    def stored_files(self) -> list[str]:
        if self.fake is not None:
            return [call["path"] for call in self.fake.calls() if call["method"] == "POST"]
        return [str(path) for path in self.root.rglob("*") if path.is_file()] if self.root else []

    def nothing_stored(self) -> bool:
        return not self.stored_files() and not MediaAsset.objects.exists()


@pytest.fixture(params=["local", "cloudinary"])
def media_backend(request, settings, tmp_path) -> Backend:
    """Runs a test once on the local filesystem and once on (fake) Cloudinary."""
    if request.param == "local":
        return Backend("local", None, request.getfixturevalue("local_media"))
    return Backend("cloudinary", request.getfixturevalue("fake_cloudinary"), None)
