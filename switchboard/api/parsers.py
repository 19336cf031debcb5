"""Request bodies beside JSON: a CSV file sent as the body itself (``Content-Type:
text/csv``), for the bulk imports; multipart uploads use DRF's own parser."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.parsers import BaseParser


class CsvTextParser(BaseParser):
    """The body as text (UTF-8, or the charset the Content-Type names)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        charset = "utf-8"
        for part in (media_type or "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"The CSV is not valid {charset} text.") from exc
