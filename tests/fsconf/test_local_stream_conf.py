"""configuration local_stream.conf: FreeSWITCH's stock streams plus one stream per rate
for every hold-music group of every live tenant; one platform-wide document, cached
until a group appears, goes or changes its shuffle."""

from __future__ import annotations

import pytest
from lxml import etree

from pbx import media
from pbx.actions import do_create_moh_group, do_delete_moh_group, do_update_moh_group
from tenants.actions import do_soft_delete_account
from tests.fsconf.replay import Captured, replay, request

FS_BASE = "/srv/switchboard-media"
STOCK = ["default", "moh/8000", "moh/16000", "moh/32000", "moh/48000"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FREESWITCH_MEDIA_BASE = FS_BASE


def fetch() -> etree._Element:
    """local_stream.conf as mod_local_stream asks for it at load (a body with only the
    five basic fields: captures, configuration-requests.txt line 22), with the headers
    of the captured sofia.conf request of the same startup."""
    template = request("configuration-sofia.conf-startup")
    body = (b"hostname=vm&section=configuration&tag_name=configuration&key_name=name"
            b"&key_value=local_stream.conf")
    answer = replay(Captured("local_stream", "POST", template.path, template.headers, body))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/xml"
    return etree.fromstring(answer.content)


def directories(root: etree._Element) -> dict[str, tuple[str, dict[str, str]]]:
    (configuration,) = root.xpath("/document/section[@name='configuration']/configuration")
    assert configuration.get("name") == "local_stream.conf"
    return {d.get("name"): (d.get("path"), {p.get("name"): p.get("value") for p in d.iter("param")})
            for d in configuration.iter("directory")}


def test_without_groups_the_stock_streams_remain(tree):
    found = directories(fetch())
    assert list(found) == STOCK
    assert found["default"] == ("$${sounds_dir}/music/8000", {
        "rate": "8000", "shuffle": "true", "channels": "1", "interval": "20", "timer-name": "soft"})
    assert found["moh/16000"][0] == "$${sounds_dir}/music/16000"
    assert found["moh/16000"][1]["rate"] == "16000"


def test_every_group_of_every_live_tenant_has_a_stream_per_rate(tree, django_assert_num_queries):
    acme = do_create_moh_group(tree.c1, name="Jazz")
    beta = do_create_moh_group(tree.c2, name="Calm", shuffle=False)
    gone = do_create_moh_group(tree.c0, name="Gone")
    do_soft_delete_account(tree.user("master_admin"), tree.c0)
    # Live accounts, the schemas holding the table, all groups: three queries, however
    # many tenants there are.
    with django_assert_num_queries(3):
        found = directories(fetch())
    expected = {}
    for account, group, shuffle in ((tree.c1, acme, "true"), (tree.c2, beta, "false")):
        for rate in (8000, 16000):
            expected[f"{account.schema_name}/{group.pk}/{rate}"] = (
                f"{FS_BASE}/{account.schema_name}/moh/{group.pk}/{rate}",
                {"rate": str(rate), "shuffle": shuffle, "channels": "1", "interval": "20",
                 "timer-name": "soft"})
    assert {name: value for name, value in found.items() if name not in STOCK} == expected
    assert not any(name.startswith(f"{tree.c0.schema_name}/{gone.pk}") for name in found)
    # The names the dialplan and call-control apps play are the streams' without the rate.
    assert media.stream_names(tree.c1.schema_name, acme.pk) == [
        f"{tree.c1.schema_name}/{acme.pk}/8000", f"{tree.c1.schema_name}/{acme.pk}/16000"]


def test_the_document_is_cached_until_a_group_change_commits(tree, committed, django_assert_num_queries):
    assert list(directories(fetch())) == STOCK
    with django_assert_num_queries(0):
        fetch()
    # Written but not committed (no after-commit invalidation): the cached answer stays.
    group = do_create_moh_group(tree.c1, name="Uncommitted")
    assert list(directories(fetch())) == STOCK
    with committed():
        other = do_create_moh_group(tree.c2, name="Committed")
    names = set(directories(fetch()))
    assert {f"{tree.c1.schema_name}/{group.pk}/8000",
            f"{tree.c2.schema_name}/{other.pk}/16000"} <= names
    with committed():
        do_update_moh_group(tree.c2, other, shuffle=False)
    assert directories(fetch())[f"{tree.c2.schema_name}/{other.pk}/8000"][1]["shuffle"] == "false"
    with committed():
        do_delete_moh_group(tree.c2, other)
    assert not any(name.startswith(f"{tree.c2.schema_name}/") for name in directories(fetch()))


def test_a_path_freeswitch_would_misread_is_refused(tree, settings):
    do_create_moh_group(tree.c1, name="Jazz")
    settings.FREESWITCH_MEDIA_BASE = "/mnt/media.local"
    template = request("configuration-sofia.conf-startup")
    answer = replay(Captured("local_stream", "POST", template.path, template.headers,
                             b"hostname=vm&section=configuration&tag_name=configuration"
                             b"&key_name=name&key_value=local_stream.conf"))
    # Not a document with every path under a ".loc" (read as playlists): FreeSWITCH keeps
    # its static file.
    assert answer.status_code == 503
