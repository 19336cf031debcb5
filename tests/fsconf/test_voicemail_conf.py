"""voicemail.conf over xml_curl: mod_voicemail's one profile, with parameter names as
mod_voicemail.c reads them."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.fsconf.replay import Captured, replay, request

# Every profile parameter mod_voicemail.c (profile_set_config) knows; <email> params are
# read as email_<name>.
PROFILE_PARAMS = {
    "terminator-key", "play-new-messages-key", "play-saved-messages-key", "play-new-messages-lifo",
    "play-saved-messages-lifo", "login-keys", "main-menu-key", "skip-greet-key", "skip-info-key",
    "config-menu-key", "record-greeting-key", "choose-greeting-key", "record-name-key",
    "change-pass-key", "record-file-key", "listen-file-key", "save-file-key", "delete-file-key",
    "undelete-file-key", "email-key", "callback-key", "pause-key", "restart-key", "ff-key", "rew-key",
    "previous-message-key", "next-message-key", "repeat-message-key", "urgent-key", "operator-key",
    "vmain-key", "vmain-extension", "forward-key", "prepend-key", "file-extension", "record-title",
    "record-comment", "record-copyright", "operator-extension", "tone-spec", "storage-dir",
    "storage-dir-shared", "callback-dialplan", "callback-context", "notify-email-body",
    "notify-email-headers", "play-date-announcement", "convert-cmd", "convert-ext", "digit-timeout",
    "max-login-attempts", "min-record-len", "max-record-len", "max-retries",
    "record-silence-threshold", "record-silence-hits", "record-sample-rate", "odbc-dsn", "dbname",
    "web-template-file", "db-password-override", "allow-empty-password-auth",
    "auto-playback-recordings",
}
EMAIL_PARAMS = {"email-from", "date-fmt", "template-file", "notify-template-file"}


def fetch(name: str = "voicemail.conf") -> etree._Element:
    """The startup configuration request, as FreeSWITCH sends it for ``name``."""
    captured = request("configuration-sofia.conf-startup")
    body = captured.body.replace(b"key_value=sofia.conf", b"key_value=" + name.encode())
    result = replay(Captured(captured.name, "POST", "/", captured.headers, body))
    assert result.status_code == 200
    return etree.fromstring(result.content)


def params(root: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in root.findall(".//profile/param")}


def test_one_default_profile_with_known_parameter_names(db):
    root = fetch()
    configuration = root.find("section/configuration")
    assert root.find("section").get("name") == "configuration"
    assert configuration.get("name") == "voicemail.conf"
    assert [p.get("name") for p in root.findall(".//profiles/profile")] == ["default"]
    found = params(root)
    assert set(found) <= PROFILE_PARAMS, set(found) - PROFILE_PARAMS
    assert {p.get("name") for p in root.findall(".//profile/email/param")} <= EMAIL_PARAMS
    assert found["file-extension"] == "wav"
    assert int(found["min-record-len"]) >= 1 and int(found["max-record-len"]) <= 1000
    assert found["terminator-key"] == "#"
    # A box's PIN is Switchboard's: never an empty-PIN login, never a PIN kept by FreeSWITCH.
    assert found["allow-empty-password-auth"] == "false"
    assert found["db-password-override"] == "false"


def test_the_mails_name_the_caller_the_length_and_the_box(db, settings):
    settings.VOICEMAIL_EMAIL_FROM = "voicemail@pbx.example.net"
    root = fetch()
    headers = root.find(".//profile/email/headers").text
    body = root.find(".//profile/email/body").text
    for variable in ("${voicemail_caller_id_number}", "${voicemail_message_len}", "${voicemail_account}"):
        assert variable in headers + body
    assert "From: Voicemail <voicemail@pbx.example.net>" in headers
    assert "\n" in headers  # one header per line, as mod_voicemail hands them to the mailer
    notify = params(root)["notify-email-headers"]
    assert notify.splitlines()[0] == "From: Voicemail <voicemail@pbx.example.net>"
    assert "${voicemail_notify_email}" in notify
    email_params = {p.get("name"): p.get("value") for p in root.findall(".//profile/email/param")}
    assert email_params["email-from"] == "voicemail@pbx.example.net"


def test_storage_and_shared_database_come_from_settings(db, settings):
    settings.VOICEMAIL_STORAGE_DIR = ""
    settings.VOICEMAIL_ODBC_DSN = ""
    local = params(fetch())
    assert "storage-dir" not in local and "odbc-dsn" not in local
    from fsconf.cache import reset_platform_generation

    reset_platform_generation()  # the answer depends on settings only, which the cache cannot see
    settings.VOICEMAIL_STORAGE_DIR = "/srv/voicemail"
    settings.VOICEMAIL_ODBC_DSN = "pgsql://hostaddr=10.0.0.9 dbname=voicemail user=fs"
    shared = params(fetch())
    assert shared["storage-dir"] == "/srv/voicemail"
    assert shared["odbc-dsn"] == "pgsql://hostaddr=10.0.0.9 dbname=voicemail user=fs"


@pytest.mark.parametrize("seconds, expected", [(120, "120"), (5000, "1000")])
def test_longest_message_is_bounded_as_mod_voicemail_bounds_it(db, settings, seconds, expected):
    settings.VOICEMAIL_MAX_RECORD_SECONDS = seconds
    assert params(fetch())["max-record-len"] == expected


def test_other_module_configurations_are_still_not_found(db):
    root = fetch("httapi.conf")
    assert root.find(".//result").get("status") == "not found"
