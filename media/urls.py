"""Upload routes. A public id holds slashes (``folder/category/owner/name_suffix``), so the id is
matched with a strict pattern (letters, digits, ``_``, ``-``, ``/`` between segments, one optional
extension): no ``..``, no empty segment, nothing a path trick could use. Anything else is a 404."""

from django.urls import path, re_path

from media import apis, views
from media.validation import PUBLIC_ID_PATTERN

urlpatterns = [
    path("uploads/images", apis.ImageUploadApi.as_view(), name="upload-images"),
    path("uploads/audio", apis.AudioUploadApi.as_view(), name="upload-audio"),
    path("uploads/videos", apis.VideoUploadApi.as_view(), name="upload-videos"),
    path("uploads/documents", apis.DocumentUploadApi.as_view(), name="upload-documents"),
    path("uploads/optimize-url", apis.OptimizeUrlApi.as_view(), name="upload-optimize-url"),
    re_path(
        rf"^uploads/(?P<public_id>{PUBLIC_ID_PATTERN})/info$",
        apis.UploadInfoApi.as_view(),
        name="upload-info",
    ),
    re_path(
        rf"^uploads/(?P<public_id>{PUBLIC_ID_PATTERN})$",
        apis.UploadDeleteApi.as_view(),
        name="upload-delete",
    ),
]

# Mounted at MEDIA_URL by the project's urls: the local backend's files, attachment + nosniff.
file_urlpatterns = [
    re_path(rf"^(?P<path>{PUBLIC_ID_PATTERN})$", views.local_media_file, name="media-file"),
]
