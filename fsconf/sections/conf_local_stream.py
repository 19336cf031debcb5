"""``local_stream.conf``: FreeSWITCH's stock hold music plus every tenant's hold-music
groups. mod_local_stream runs one stream per ``<directory>`` at one rate, and
``local_stream://NAME`` on a channel at R Hz plays the stream ``NAME/R`` if there is one,
else ``NAME``, else ``default``; so each group gets ``<schema>/<group id>/8000`` and
``/16000`` over its two folders (pbx.media), and FreeSWITCH never resamples.

One document for the whole platform, cached under the platform generation: a group's
creation, deletion or change of shuffle sends ``platform_config_changed``.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from lxml import etree

from fsconf.documents import new_document, serialize
from fsconf.request import FetchRequest
from pbx import media
from pbx.models import MohGroup
from tenants.models import Account

# The vanilla file's streams: "default" is where an unknown stream name falls back, and
# vars.xml's hold_music is local_stream://moh.
STOCK_STREAMS = [("default", 8000)] + [(f"moh/{rate}", rate) for rate in (8000, 16000, 32000, 48000)]


def _directory(parent: etree._Element, name: str, path: str, rate: int, shuffle: bool) -> None:
    directory = etree.SubElement(parent, "directory", name=name, path=path)
    for param, value in (("rate", str(rate)), ("shuffle", "true" if shuffle else "false"),
                         ("channels", "1"), ("interval", "20"), ("timer-name", "soft")):
        etree.SubElement(directory, "param", name=param, value=value)


def moh_groups() -> list[tuple[str, int, bool]]:
    """(schema, group id, shuffle) of every group of every live account, in three queries
    whatever the number of tenants. A schema without the table (being provisioned) is
    skipped rather than failing everyone's document."""
    schemas = list(Account.objects.live().exclude(schema_name=get_public_schema_name())
                   .values_list("schema_name", flat=True))
    if not schemas:
        return []
    table = MohGroup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND n.nspname = ANY(%s) ORDER BY n.nspname", [table, schemas])
        present = [row[0] for row in cursor.fetchall()]
        if not present:
            return []
        quote = connection.ops.quote_name
        cursor.execute(
            " UNION ALL ".join(f"SELECT %s, id, shuffle FROM {quote(schema)}.{quote(table)}"
                               for schema in present) + " ORDER BY 1, 2",
            present,
        )
        return [(schema, group_id, shuffle) for schema, group_id, shuffle in cursor.fetchall()]


def local_stream_conf(fetch: FetchRequest) -> bytes:
    root, section = new_document("configuration")
    configuration = etree.SubElement(section, "configuration", name="local_stream.conf",
                                     description="stream files from local dir")
    for name, rate in STOCK_STREAMS:
        # $${sounds_dir} is expanded by FreeSWITCH's pre-processor, as in the static file.
        _directory(configuration, name, f"$${{sounds_dir}}/music/{rate}", rate, shuffle=True)
    for schema, group_id, shuffle in moh_groups():
        for rate in media.RATES:
            _directory(configuration, f"{media.stream_name(schema, group_id)}/{rate}",
                       media.freeswitch_path(media.group_folder(schema, group_id, rate)),
                       rate, shuffle)
    return serialize(root)
