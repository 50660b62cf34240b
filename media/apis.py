"""Upload endpoints (the Node backend's paths): one APIView per operation."""

from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.api.fields import DateTimeField
from media.selectors import media_info, media_optimized_url
from media.services import media_delete, media_upload
from media.validation import PUBLIC_ID_MAX_LENGTH, PUBLIC_ID_PATTERN, Category, request_too_large


def absolute_url(request, url: str) -> str:
    """Local storage records a site-relative URL (``/media/…``); clients get it absolute, built
    from the request that asked (its scheme and host), as Cloudinary's URLs already are."""
    if request is not None and url.startswith("/"):
        return request.build_absolute_uri(url)
    return url


class AbsoluteUrlField(serializers.CharField):
    def to_representation(self, value):
        return absolute_url(self.context.get("request"), super().to_representation(value))


class AssetOutput(serializers.Serializer):
    id = serializers.CharField()
    public_id = serializers.CharField()
    category = serializers.CharField()
    resource_type = serializers.CharField()
    format = serializers.CharField()
    content_type = serializers.CharField()
    original_name = serializers.CharField()
    bytes = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration = serializers.FloatField(allow_null=True)
    url = AbsoluteUrlField()
    created_at = DateTimeField()


class UploadInput(serializers.Serializer):
    """For the schema only: the files are read from ``request.FILES`` and checked by sniffing."""

    files = serializers.ListField(child=serializers.FileField())


class UploadOutput(serializers.Serializer):
    files = AssetOutput(many=True)


_UPLOAD_ERRORS = {
    400: OpenApiResponse(description="No file, an empty file, or too many files"),
    413: OpenApiResponse(description="A file (or the request) is larger than allowed"),
    415: OpenApiResponse(description="The file's bytes are not an allowed type"),
    503: OpenApiResponse(description="Media storage is unavailable"),
}


class _UploadApi(APIView):
    """POST multipart with one or more ``files`` fields (a single ``file`` is accepted too)."""

    category: str = ""
    parser_classes = [MultiPartParser]

    @extend_schema(request=UploadInput, responses={201: UploadOutput, **_UPLOAD_ERRORS})
    def post(self, request):
        if request_too_large(self.category, _content_length(request)):
            raise ApplicationError(
                ErrorCode.PAYLOAD_TOO_LARGE, _("The request is too large."), status=413
            )
        uploads = _uploaded_files(request)
        assets = media_upload(owner=request.user, category=self.category, uploads=uploads)
        output = UploadOutput({"files": assets}, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _uploaded_files(request) -> list:
    """The ``files`` and ``file`` parts. Django refuses a body with too many parts or fields with
    a SuspiciousOperation, which DRF would let through as a 500."""
    try:
        return [*request.FILES.getlist("files"), *request.FILES.getlist("file")]
    except SuspiciousOperation as error:
        raise ApplicationError(ErrorCode.BAD_REQUEST, str(error), status=400) from error


class ImageUploadApi(_UploadApi):
    category = Category.IMAGES


class AudioUploadApi(_UploadApi):
    category = Category.AUDIO


class VideoUploadApi(_UploadApi):
    category = Category.VIDEOS


class DocumentUploadApi(_UploadApi):
    category = Category.DOCUMENTS


class UploadDeleteApi(APIView):
    @extend_schema(responses={204: None, 404: OpenApiResponse(description="Not yours or missing")})
    def delete(self, request, public_id: str):
        media_delete(user=request.user, public_id=public_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadInfoApi(APIView):
    """Our record plus what storage says about the file now, under ``storage``."""

    class Output(AssetOutput):
        storage = serializers.DictField()

        class Meta:
            ref_name = "UploadInfo"

    @extend_schema(
        responses={200: Output, 404: OpenApiResponse(description="Not yours or missing")}
    )
    def get(self, request, public_id: str):
        info = media_info(user=request.user, public_id=public_id)
        data = AssetOutput(info["asset"], context={"request": request}).data
        storage = dict(info["storage"])
        if "url" in storage:
            storage["url"] = absolute_url(request, storage["url"])
        data["storage"] = storage
        return Response(data)


class OptimizeUrlApi(APIView):
    """A delivery URL with resizing, automatic quality and automatic format: no network call."""

    class Input(serializers.Serializer):
        public_id = serializers.RegexField(
            rf"^{PUBLIC_ID_PATTERN}\Z", max_length=PUBLIC_ID_MAX_LENGTH
        )
        resource_type = serializers.ChoiceField(["image", "video"], default="image")
        width = serializers.IntegerField(min_value=1, max_value=4000, required=False)
        height = serializers.IntegerField(min_value=1, max_value=4000, required=False)
        crop = serializers.ChoiceField(
            ["fill", "fit", "limit", "scale", "thumb", "pad", "lfill", "mfit", "crop"],
            default="limit",
        )
        quality = serializers.ChoiceField(
            ["auto", "auto:best", "auto:good", "auto:eco", "auto:low"], default="auto"
        )
        format = serializers.ChoiceField(["auto", "webp", "avif", "jpg", "png"], default="auto")

        class Meta:
            ref_name = "OptimizeUrlInput"

    class Output(serializers.Serializer):
        url = AbsoluteUrlField()
        transformed = serializers.BooleanField()

        class Meta:
            ref_name = "OptimizeUrl"

    @extend_schema(
        request=Input,
        responses={200: Output, 404: OpenApiResponse(description="Not yours or missing")},
    )
    def post(self, request):
        params = self.Input(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        result = media_optimized_url(
            user=request.user,
            public_id=data.pop("public_id"),
            resource_type=data.pop("resource_type"),
            fetch_format=data.pop("format"),
            **data,
        )
        return Response(self.Output(result, context={"request": request}).data)
