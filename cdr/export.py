"""Call records as a CSV download, streamed: the API's ``calls/export.csv`` and the
portal's export link answer with :func:`csv_response`."""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from cdr.names import label
from cdr.queries import result_of
from tenants.models import Account

# The columns the export reads (never ``raw``).
CSV_FIELDS = ["start_at", "answer_at", "end_at", "account", "leg", "direction", "caller_number",
              "caller_name", "callee_number", "extension", "did", "destination_kind", "duration", "billsec",
              "hangup_cause", "sip_status", "leg_uuid", "call_uuid", "trunk", "gateway"]
# The names (cdr.names) come last, so the earlier columns keep their places.
CSV_HEADER = ["start", "answered_at", "end", "account", "leg", "direction", "caller", "caller_name",
              "callee", "extension", "did", "destination", "duration_s", "talk_s", "hangup_cause",
              "sip_status", "result", "leg_uuid", "call_uuid", "account_name", "extension_name", "did_name",
              "trunk_name", "destination_name"]
# Rows fetched per round trip of the server-side cursor.
CSV_CHUNK = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(queryset: QuerySet, account: Account,
                 viewer: Account | None = None) -> StreamingHttpResponse:
    """The records of ``queryset`` (already scoped and filtered), newest first, times in
    the account's zone, names as ``viewer`` (default: the account) may see them, as a
    streamed attachment."""
    zone = zoneinfo.ZoneInfo(account.timezone)
    rows = csv_rows(queryset.order_by("-start_at", "-leg_uuid"), zone, viewer or account)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(zone).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="calls-{account.pk}-{stamp}.csv"'
    return response


def csv_rows(queryset: QuerySet, zone: zoneinfo.ZoneInfo, viewer: Account) -> Iterator[str]:
    """The rows as CSV text, read through a server-side cursor CSV_CHUNK rows at a time
    (QuerySet.iterator), so neither the database's answer nor the file is ever whole in
    memory; names resolved per CSV_CHUNK rows (cdr.names: a few queries a chunk)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for chunk in _chunks(queryset.only(*CSV_FIELDS).iterator(chunk_size=CSV_CHUNK), CSV_CHUNK):
        for record in label(chunk, viewer):
            yield _csv_row(writer, record, zone)


def _chunks(records: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _csv_row(writer, record, zone: zoneinfo.ZoneInfo) -> str:
    names = record.labels
    return writer.writerow([
        _local(record.start_at, zone), _local(record.answer_at, zone), _local(record.end_at, zone),
        record.account_id, record.leg, record.direction, _safe(record.caller_number),
        _safe(record.caller_name), _safe(record.callee_number), _safe(record.extension),
        _safe(record.did), record.destination_kind, record.duration, record.billsec, record.hangup_cause,
        record.sip_status if record.sip_status is not None else "", result_of(record),
        record.leg_uuid, record.call_uuid, _safe(names.account), _safe(names.extension),
        _safe(names.did), _safe(names.trunk), _safe(names.destination)])


def _local(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _safe(text: str) -> str:
    """A caller name or number could start a spreadsheet formula (=, +, -, @): quoted.
    A leading + of an E.164 number is kept when the rest is digits."""
    if text[:1] == "+" and text[1:].isdigit():
        return text
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


USAGE_HEADER = ["account_id", "account", "kind", "parent_id", "depth", "calls", "minutes",
                "outbound_local", "outbound_domestic", "outbound_international", "outbound_emergency",
                "outbound_unknown", "subtree_calls", "subtree_minutes", "subtree_outbound_local",
                "subtree_outbound_domestic", "subtree_outbound_international", "subtree_outbound_emergency",
                "subtree_outbound_unknown"]
USAGE_CLASSES = ("local", "domestic", "international", "emergency", "unknown")


def usage_csv_response(rows: list, account: Account, month) -> HttpResponse:
    """A month's usage per account (cdr.reports.usage's rows, in tree order) as a CSV
    attachment: each account's own figures, then its subtree's; minutes to 0.1."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(USAGE_HEADER)
    by_path = {row.account.path: row.account.pk for row in rows}
    steplen = type(account).steplen
    for row in rows:
        own, subtree = row.own.as_dict(), row.subtree.as_dict()
        writer.writerow([
            row.account.pk, _safe(row.account.name), row.account.kind,
            by_path.get(row.account.path[:-steplen], ""), row.depth,
            own["calls"], own["minutes"], *(own["outbound_minutes"][name] for name in USAGE_CLASSES),
            subtree["calls"], subtree["minutes"],
            *(subtree["outbound_minutes"][name] for name in USAGE_CLASSES),
        ])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{account.pk}-{month:%Y-%m}.csv"'
    return response
