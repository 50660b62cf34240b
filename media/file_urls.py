"""The local backend's files, mounted at MEDIA_URL by the project's urls (by module name)."""

from media.urls import file_urlpatterns as urlpatterns

__all__ = ["urlpatterns"]
