"""A local file answered to a browser's ``<audio>`` or a download, with byte ranges.

Chromium seeks in an ``<audio>`` element only when the server answers ``Range`` requests
(206 with ``Content-Range``); Django's FileResponse always sends the whole file. One
range (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``) is answered; several, or a malformed
one, get the whole file (RFC 9110 lets a server ignore Range); one that starts past the
end gets 416.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def _chunks(path: Path, start: int, length: int):
    with path.open("rb") as handle:
        handle.seek(start)
        left = length
        while left > 0:
            data = handle.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data


def _range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) byte of one satisfiable range; None: no usable Range (answer the
    whole file); False: not satisfiable (416)."""
    match = _RANGE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last n bytes
        n = int(match[2])
        return (max(0, size - n), size - 1) if n and size else False
    first = int(match[1])
    last = int(match[2]) if match[2] else size - 1
    if first >= size or last < first:
        return False
    return first, min(last, size - 1)


def file_response(request: HttpRequest, path: Path, *, size: int, content_type: str, filename: str,
                  download: bool = False) -> HttpResponse:
    """``path`` (``size`` bytes) as the answer: whole, or the one range asked for."""
    disposition = "attachment" if download else "inline"
    wanted = _range(request.headers.get("Range", ""), size) if request.headers.get("Range") else None
    if wanted is False:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    if wanted is None:
        response: HttpResponse = FileResponse(path.open("rb"), content_type=content_type,
                                              as_attachment=download, filename=filename)
        response["Content-Length"] = str(size)
    else:
        first, last = wanted
        response = StreamingHttpResponse(_chunks(path, first, last - first + 1), status=206,
                                         content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
        response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Accept-Ranges"] = "bytes"
    return response
