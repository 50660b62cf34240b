"""List pagination for every list API: the paginators, the page response, and its schema."""

from django.db.models import QuerySet
from drf_spectacular.utils import inline_serializer
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """For large, append-mostly lists (exam histories): stable pages without COUNT queries."""

    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-created_at"


def paginated_response(
    view: APIView,
    request: Request,
    queryset: QuerySet,
    serializer_class: type[serializers.Serializer],
) -> Response:
    """One page of ``queryset`` as ``view.pagination_class`` cuts it, each item serialized: what a
    list APIView (which has no ``GenericAPIView.paginate_queryset``) returns."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def paginated_schema(
    item_serializer: type[serializers.Serializer], *, name: str, cursor: bool = False
) -> serializers.Serializer:
    """The OpenAPI shape of a page, for list APIViews that paginate by hand."""
    fields = {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item_serializer(many=True),
    }
    if not cursor:
        fields = {"count": serializers.IntegerField(), **fields}
    return inline_serializer(name=name, fields=fields)
