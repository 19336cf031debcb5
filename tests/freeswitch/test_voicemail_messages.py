"""Voicemail messages on the real switch: a caller reaches an unregistered extension's box
and speaks (sipp streams a tone as RTP, so mod_voicemail's silence detection keeps
recording and the message is longer than min-record-len); the node manager of the
call-control server mirrors it from mod_voicemail's leave-message event; the API serves
its recording as a WAV read from the node's storage (the same disk here); mark-read
reaches mod_voicemail (vm_list shows it read) and delete removes it from the node."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django_tenants.utils import schema_context

from fsnodes.voicemail_messages import list_command, parse_listing
from pbx.actions.voicemail_messages import do_delete_message, do_mark_message_read
from pbx.models import VoicemailBox, VoicemailMessage
from tests.freeswitch.sip import SCENARIOS
from tests.switchboard.api.client import Api, accounts_url, key_for

pytestmark = pytest.mark.freeswitch

SPEAK_MS = 9000  # the greeting's silent stand-ins and the tone, then about 5 s of message


def speaking_scenario(workdir: Path) -> Path:
    """uac_dtmf.xml with the DTMF replaced by an RTP stream of a 440 Hz tone (raw mu-law,
    payload 0 = PCMU, the first codec offered), looped until the BYE."""
    tone = workdir / "tone.ulaw"
    samples = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000 * 2) / 8000)
    soundfile.write(tone, samples, 8000, format="RAW", subtype="ULAW")
    template = (SCENARIOS / "uac_dtmf.xml").read_text()
    stream = f'<exec rtp_stream="{tone},-1,0"/>'
    scenario = workdir / "uac_speak.xml"
    text = re.sub(r'<exec play_dtmf="@DTMF@"/>', stream, template)
    assert stream in text
    scenario.write_text(text.replace("@DTMF_AFTER_MS@", "100").replace("@HOLD_MS@", str(SPEAK_MS)))
    return scenario


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_left_message_is_mirrored_played_marked_read_and_deleted_on_the_node(fs, tmp_path, settings):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    with schema_context(acme.account.schema_name):
        VoicemailBox.objects.filter(number="1002").update(skip_instructions=True)

    call = fs.sip.run_sipp(speaking_scenario(tmp_path), keys={
        "from_user": "1001", "from_domain": "acme.example.net", "to_domain": "acme.example.net",
        "hold_ms": str(SPEAK_MS)}, auth=("1001", acme.secret("1001")), auth_uri="1002@acme.example.net",
        timeout=30, extra=["-s", "1002"])
    assert call.final_status("INVITE") == 200, call.describe()

    def mirrored() -> VoicemailMessage | None:
        with schema_context(acme.account.schema_name):
            return VoicemailMessage.objects.select_related("box").filter(box__number="1002").first()

    message = wait_for(mirrored, 20, "the mirror row from leave-message")
    assert (message.node, message.caller_id_number, message.read_at) == ("harness", "1001", None)
    assert message.duration >= 3, message.duration  # above min-record-len: the tone kept it going
    # msg_<a uuid of its own>.wav; the message's uuid is the call's.
    path_shape = r"/acme\.example\.net/1002/msg_[0-9a-f-]{36}\.wav$"
    assert re.search(path_shape, message.file_path), message.file_path
    [listed] = parse_listing(fs.api(list_command("1002", "acme.example.net")))
    assert (listed.uuid, listed.read_epoch, listed.file_path) == (message.uuid, 0, message.file_path)

    # The web server reads the recording where the node wrote it (one disk in the harness;
    # a shared mount in production).
    settings.VOICEMAIL_NODE_STORAGE_DIR = str(Path(message.file_path).parents[3])
    api = Api(token=key_for(fs.data.admin))
    url = accounts_url(acme.account, "voicemail-boxes", message.box.pk, "messages", message.uuid)
    audio = api.send("get", url + "audio/")
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
    wav = tmp_path / "message.wav"
    wav.write_bytes(b"".join(audio.streaming_content))
    info = soundfile.info(str(wav))
    assert info.format == "WAV" and info.duration >= 3, info

    do_mark_message_read(acme.account, message, actor=fs.data.admin)  # vm_read queued, delivered
    wait_for(lambda: parse_listing(fs.api(list_command("1002", "acme.example.net")))[0].read_epoch > 0,
             10, "vm_list to show the message read")
    assert api.send("get", url)["Content-Type"].startswith("application/json")

    do_delete_message(acme.account, message, actor=fs.data.admin)
    wait_for(lambda: parse_listing(fs.api(list_command("1002", "acme.example.net"))) == [],
             10, "the message to leave the node")
    assert not Path(message.file_path).exists()
    # The action removed the row at once, but a vm_list sync started by the mark-read's
    # mwi-update may have listed the box just before the deletion and put the row back;
    # the deletion's own mwi-update syncs an empty listing after it (seen in CI).
    wait_for(lambda: mirrored() is None, 10, "the mirror row to be gone")
