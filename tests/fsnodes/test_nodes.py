"""Nodes from the FREESWITCH_NODES setting (or the environment variable)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from fsnodes.models import FreeswitchNode, NodeCommand
from fsnodes.nodes import NodeSpec, configured_node_urls, parse_node_url, sync_configured_nodes
from fsnodes.queue import enqueue


def test_parse_node_url():
    assert parse_node_url("esl://:ClueCon@127.0.0.1:8021") == NodeSpec(
        "127.0.0.1:8021", "127.0.0.1", 8021, "ClueCon"
    )
    assert parse_node_url("esl://:p%40ss%3Aw%23rd@fs1.example.net#fs-a") == NodeSpec(
        "fs-a", "fs1.example.net", 8021, "p@ss:w#rd"
    )
    for bad in ("http://:x@h:8021", "esl://h:8021", "esl://:x@:8021", "esl://:x@h:port"):
        with pytest.raises(ImproperlyConfigured):
            parse_node_url(bad)


def test_the_environment_variable_is_read_when_the_setting_is_absent(settings, monkeypatch):
    del settings.FREESWITCH_NODES
    monkeypatch.setenv("FREESWITCH_NODES", "esl://:a@10.0.0.5#fs-a, esl://:b@10.0.0.6:8022")
    assert configured_node_urls() == ["esl://:a@10.0.0.5#fs-a", "esl://:b@10.0.0.6:8022"]


def test_sync_creates_updates_and_retires_settings_nodes(db, settings):
    manual = FreeswitchNode(name="by-hand", host="10.0.0.9")
    manual.set_esl_password("x")
    manual.save()

    settings.FREESWITCH_NODES = ["esl://:ClueCon@10.0.0.5#fs-a", "esl://:other@10.0.0.6:8022#fs-b"]
    sync_configured_nodes()
    a = FreeswitchNode.objects.get(name="fs-a")
    assert (a.host, a.esl_port, a.enabled, a.source) == ("10.0.0.5", 8021, True, "settings")
    assert a.esl_password == "ClueCon" and "ClueCon" not in a.esl_password_encrypted

    settings.FREESWITCH_NODES = ["esl://:new-pass@10.0.0.7#fs-a"]
    call_command("sync_freeswitch_nodes", stdout=open("/dev/null", "w"))  # noqa: SIM115
    a.refresh_from_db()
    assert (a.host, a.esl_password) == ("10.0.0.7", "new-pass")
    assert FreeswitchNode.objects.get(name="fs-b").enabled is False  # kept, disabled
    assert FreeswitchNode.objects.get(name="by-hand").enabled is True  # never touched


def test_enqueue_reaches_nodes_from_the_setting_without_a_prior_sync(db, settings):
    settings.FREESWITCH_NODES = "esl://:ClueCon@127.0.0.1:1#fs-a"
    enqueue("xml_flush_cache id 1001 acme.example.net")
    assert list(NodeCommand.objects.values_list("node__name", flat=True)) == ["fs-a"]


def test_a_setting_naming_a_hand_made_node_is_refused(db, settings):
    manual = FreeswitchNode(name="fs-a", host="10.0.0.9")
    manual.set_esl_password("x")
    manual.save()
    settings.FREESWITCH_NODES = ["esl://:ClueCon@10.0.0.5#fs-a"]
    with pytest.raises(ImproperlyConfigured, match="added by hand"):
        sync_configured_nodes()
