"""One way to page a list endpoint: cursor pagination (docs/api.md, "Lists").

Every list answer is `{"next": url|null, "previous": url|null, "results": [...]}`. `?page_size=`
(1-200, default 50) sets the page's length; follow `next` for the rest. Cursors are opaque: a page
stays stable while rows are added, and no count is computed over the whole table.

A list view mixes in `CursorPaged` and calls `self.page(queryset, ordering=...)`: the ordering is the
list's natural order with a unique last key (the cursor's position is its first field). The view
audits only the page's rows (`page.items`), which is what the asker was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.response import Response

from backend.core.errors import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class CursorPage(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = f"How many results per page (1-{MAX_PAGE_SIZE}; default {DEFAULT_PAGE_SIZE})."
    max_page_size = MAX_PAGE_SIZE
    cursor_query_description = "Where the page starts: take it from the previous answer's next or previous link."
    ordering = ("-id",)
    model = None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
        return parameters

    def decode_cursor(self, request) -> Cursor | None:
        """DRF's decoding, with a bad cursor refused as a 400 naming `cursor` (not a 404, and never a
        position that is not a value of the ordering field, which would reach the database)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise InvalidInput("This cursor is not one we gave out: follow the next or previous link.",
                               field="cursor", code="invalid_cursor") from None
        if cursor is not None and cursor.position is not None and self.model is not None:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                if "\x00" in cursor.position:
                    raise ValidationError("NUL")
                field.to_python(cursor.position)
            except (ValidationError, ValueError, TypeError, OverflowError):
                raise InvalidInput("This cursor is not one we gave out: follow the next or previous link.",
                                   field="cursor", code="invalid_cursor") from None
        return cursor


@dataclass
class Page:
    """One page of a list: its rows, and the answer that wraps their rendering in {next, previous, results}."""

    items: list
    paginator: CursorPage

    def response(self, data) -> Response:
        return self.paginator.get_paginated_response(data)


class CursorPaged:
    """A mixin for APIViews with a paged GET: the schema shows the paged shape and the cursor and
    page_size parameters (drf-spectacular reads `pagination_class`)."""

    pagination_class = CursorPage

    def page(self, queryset, *, ordering: tuple[str, ...]) -> Page:
        paginator = self.pagination_class()
        paginator.ordering = ordering
        paginator.model = queryset.model
        items = paginator.paginate_queryset(queryset, self.request, view=self)
        return Page(items=items, paginator=paginator)
