"""``voicemail.conf`` over xml_curl: mod_voicemail's one ``default`` profile, which every
tenant's boxes use (the dialplan runs ``voicemail default <tenant domain> <box>``; the
domain keeps tenants apart in the message store and on disk). Boxes themselves are
directory users (fsconf.sections.directory): PIN, email addresses, what to do after
mailing.

FreeSWITCH asks for this at startup and on ``reload mod_voicemail`` (twice each time,
capture ``configuration-requests.txt``), without any request parameter: the answer is
the same for every node.

Settings (all optional):

* ``VOICEMAIL_STORAGE_DIR`` — where recordings go (``<dir>/<domain>/<box>/msg_<uuid>.wav``);
  empty: FreeSWITCH's own ``$${storage_dir}/voicemail/default/<domain>/<box>``. With several
  FreeSWITCH nodes this must be storage they all mount, or a message is only playable on
  the node that recorded it.
* ``VOICEMAIL_ODBC_DSN`` — the database mod_voicemail keeps its message index in
  (``voicemail_msgs``, ``voicemail_prefs``), e.g. ``pgsql://hostaddr=10.0.0.9 dbname=voicemail
  user=fs password=...``; empty: a SQLite file local to each node. A shared database is
  what lets several nodes see the same messages (a message left through node A is
  counted for MWI and played back when the owner calls in through node B) and lets the
  retention sweep (fsnodes.voicemail_retention) find them from any node.
* ``VOICEMAIL_EMAIL_FROM`` — the sender of the notification mails.
* ``VOICEMAIL_MAX_RECORD_SECONDS`` — the longest message (mod_voicemail accepts 0-1000).

Parameter names are those of mod_voicemail.c ``profile_set_config`` (the ``<email>``
block's params become ``email_<name>``); values are strings as FreeSWITCH reads them.
"""

from __future__ import annotations

from django.conf import settings
from lxml import etree

from fsconf.documents import new_document, serialize
from fsconf.request import FetchRequest

PROFILE = "default"

# The mail with the recording attached (vm-mailto). mod_voicemail expands ${...} from the
# message's variables (deliver_vm): voicemail_caller_id_*, voicemail_message_len
# (HH:MM:SS), voicemail_account (the box), voicemail_domain, voicemail_time, ...
# A newline inside an attribute travels as &#10;, which switch_xml_decode turns back into
# a newline (attribute whitespace normalization only touches literal whitespace).
EMAIL_HEADERS = (
    "From: Voicemail <{sender}>\n"
    "To: <${{voicemail_email}}>\n"
    "Subject: Voicemail from ${{voicemail_caller_id_name}} ${{voicemail_caller_id_number}}"
    " (${{voicemail_message_len}}) for box ${{voicemail_account}}\n"
    "X-Priority: ${{voicemail_priority}}"
)
EMAIL_BODY = (
    "You have a new voicemail message in box ${voicemail_account}.\n\n"
    "From: ${voicemail_caller_id_name} ${voicemail_caller_id_number}\n"
    "Received: ${voicemail_time}\n"
    "Length: ${voicemail_message_len}\n\n"
    "The recording is attached.\n"
)
# The short notice for an email-to-SMS address (vm-notify-mailto): never an attachment.
NOTIFY_HEADERS = (
    "From: Voicemail <{sender}>\n"
    "To: <${{voicemail_notify_email}}>\n"
    "Subject: Voicemail ${{voicemail_account}}\n"
    "X-Priority: ${{voicemail_priority}}"
)
NOTIFY_BODY = "New voicemail from ${voicemail_caller_id_number} (${voicemail_message_len})"

MAX_RECORD_SECONDS = 1000  # mod_voicemail's own upper bound for max-record-len


def setting(name: str, default: str | int) -> str:
    return str(getattr(settings, name, default) or default)


def sender() -> str:
    return setting("VOICEMAIL_EMAIL_FROM", "voicemail@localhost")


def profile_params() -> dict[str, str]:
    max_record = min(int(setting("VOICEMAIL_MAX_RECORD_SECONDS", 300)), MAX_RECORD_SECONDS)
    params = {
        "file-extension": "wav",
        "terminator-key": "#",
        "max-login-attempts": "3",
        "digit-timeout": "10000",
        "min-record-len": "3",
        "max-record-len": str(max_record),
        "max-retries": "3",
        "tone-spec": "%(1000, 0, 640)",
        "record-silence-threshold": "200",
        "record-silence-hits": "2",
        "play-date-announcement": "first",
        "skip-greet-key": "#",
        "skip-info-key": "*",
        "login-keys": "0",
        "record-title": "Voicemail",
        "record-comment": "Voicemail",
        # The PIN lives in Switchboard (vm-password in the directory); a PIN kept in
        # mod_voicemail's own database must not override it.
        "db-password-override": "false",
        # The module default (true) lets anyone into a box whose user has no password.
        "allow-empty-password-auth": "false",
        "auto-playback-recordings": "false",
        # Pressing the callback key in a message would dial the caller from this context,
        # which no tenant has (FreeSWITCH's vanilla "default" is not ours): no callback.
        "callback-dialplan": "XML",
        "callback-context": "voicemail-callback-disabled",
        "notify-email-headers": NOTIFY_HEADERS.format(sender=sender()),
        "notify-email-body": NOTIFY_BODY,
    }
    storage = setting("VOICEMAIL_STORAGE_DIR", "")
    if storage:
        params["storage-dir"] = storage
    dsn = setting("VOICEMAIL_ODBC_DSN", "")
    if dsn:
        params["odbc-dsn"] = dsn
    return params


def voicemail_conf(fetch: FetchRequest | None = None) -> bytes:
    root, section = new_document("configuration")
    configuration = etree.SubElement(section, "configuration", name="voicemail.conf",
                                     description="Voicemail")
    general = etree.SubElement(configuration, "settings")
    etree.SubElement(general, "param", name="debug", value="0")
    profiles = etree.SubElement(configuration, "profiles")
    profile = etree.SubElement(profiles, "profile", name=PROFILE)
    for name, value in profile_params().items():
        etree.SubElement(profile, "param", name=name, value=value)
    email = etree.SubElement(profile, "email")
    etree.SubElement(email, "headers").text = EMAIL_HEADERS.format(sender=sender())
    etree.SubElement(email, "body").text = EMAIL_BODY
    etree.SubElement(email, "param", name="email-from", value=sender())
    etree.SubElement(email, "param", name="date-fmt", value="%A, %B %d %Y, %I:%M %p")
    return serialize(root)
