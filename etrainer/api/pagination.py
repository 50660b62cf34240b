from drf_spectacular.utils import inline_serializer
from rest_framework import pagination, serializers


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """For large, append-mostly lists (exam histories): stable pages without COUNT queries."""

    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-created_at"


def paginated_schema(item_serializer: type[serializers.Serializer], *, name: str, cursor=False):
    """The OpenAPI shape of a page, for list APIViews that paginate by hand."""
    fields = {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item_serializer(many=True),
    }
    if not cursor:
        fields = {"count": serializers.IntegerField(), **fields}
    return inline_serializer(name=name, fields=fields)
