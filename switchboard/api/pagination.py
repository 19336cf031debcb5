"""Lists come in pages: ``?page=N&page_size=M`` (at most MAX_PAGE_SIZE); the answer
carries the total count and the links to the neighbouring pages. Two queries whatever the
page size: the count and the page (the views prefetch what a row shows)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class Pages(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
