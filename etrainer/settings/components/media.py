"""Static files, uploads and their storage (local directory or Cloudinary)."""

from etrainer.env import BASE_DIR, env

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads always stream to a temporary file on disk: nothing holds a whole video in memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = env("MEDIA_UPLOAD_TEMP_DIR", default=None)
# Above the largest batch (5 images) so that 6-10 files get our own 400; more is Django's 400.
DATA_UPLOAD_MAX_NUMBER_FILES = 10
CLOUDINARY_URL = env("CLOUDINARY_URL", default="")
CLOUDINARY_CLOUD_NAME = env("CLOUDINARY_CLOUD_NAME", default="")
CLOUDINARY_API_KEY = env("CLOUDINARY_API_KEY", default="")
CLOUDINARY_API_SECRET = env("CLOUDINARY_API_SECRET", default="")
# Only for tests and proxies: where the SDK sends upload/destroy and Admin API calls.
CLOUDINARY_UPLOAD_PREFIX = env("CLOUDINARY_UPLOAD_PREFIX", default="")
MEDIA_BACKEND = env(
    "MEDIA_BACKEND",
    default="cloudinary" if (CLOUDINARY_URL or CLOUDINARY_CLOUD_NAME) else "local",
)
MEDIA_FOLDER = env("MEDIA_FOLDER", default="etrainer")
MEDIA_CLOUDINARY_TIMEOUT = env.float("MEDIA_CLOUDINARY_TIMEOUT", default=30.0)
MEDIA_CLOUDINARY_CHUNK_SIZE = env.int("MEDIA_CLOUDINARY_CHUNK_SIZE", default=5 * 1024 * 1024)
MEDIA_BREAKER_FAILURES = env.int("MEDIA_BREAKER_FAILURES", default=3)
MEDIA_BREAKER_RESET_SECONDS = env.float("MEDIA_BREAKER_RESET_SECONDS", default=30.0)
MEDIA_STATUS_CACHE_SECONDS = env.float("MEDIA_STATUS_CACHE_SECONDS", default=60.0)
# Images above this many pixels (width x height x frames) are refused before decoding: 25 MP
# covers a 6000x4000 photo; decoded, it is ~100 MB of RGBA in the worker.
UPLOAD_IMAGE_MAX_PIXELS = env.int("UPLOAD_IMAGE_MAX_PIXELS", default=25_000_000)
