"""The company directory ("directory" app, no ref; seeds 002/003 "dial-by-name").

The caller spells the first three letters of the person's last name on the keypad
(2 = ABC ... 9 = WXYZ; # after fewer keys searches with those), or presses * to search
by first name instead (and * again to go back). Extensions that are enabled and hidden
neither themselves nor by their voicemail box are matched on the first or last word of
their name. Each match is read out -- the recorded name of its voicemail box when there
is one, else the extension number -- followed by "press 1 to connect, 2 for the next";
1 transfers to the extension. No match, or no choice after the last match, counts as a
failed search; after ``MAX_SEARCHES`` the caller hears goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcontrol.apps import register
from callcontrol.apps.common import channel_rate, goodbye, not_in_service, prompt_path, tenant_or_none
from callcontrol.session import CallSession
from pbx.models.destinations import Destination, DestinationKind

KEYPAD = {letter: digit for digit, letters in {
    "2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno", "7": "pqrs", "8": "tuv", "9": "wxyz",
}.items() for letter in letters}
LETTERS = 3
MAX_SEARCHES = 3
SEARCH_TIMEOUT = 8
KEY_TIMEOUT = 3
CHOICE_TIMEOUT = 5
SWITCH_KEY = "*"

# Stock FreeSWITCH sounds (mod_directory's).
BY_LAST_NAME = "file_string://directory/dir-enter_person.wav!directory/dir-last_name.wav"
BY_FIRST_NAME = "file_string://directory/dir-enter_person.wav!directory/dir-first_name.wav"
NO_MATCH = "directory/dir-no_matching_results.wav"
NO_MORE = "directory/dir-no_more_results.wav"
AT_EXTENSION = "directory/dir-at_extension.wav"
CHOOSE = ("file_string://directory/dir-to_select_entry.wav!directory/dir-press.wav!digits/1.wav"
          "!directory/dir-for_next.wav!directory/dir-press.wav!digits/2.wav")


@dataclass(frozen=True)
class Entry:
    pk: int
    number: str
    first_key: str  # the keypad digits of the first name's letters
    last_key: str
    name_prompt: str  # the box's recorded name, "" for none


def keypad(word: str) -> str:
    return "".join(KEYPAD[c] for c in word.lower() if c in KEYPAD)


def load_entries(session: CallSession) -> list[Entry]:
    from django.db.models import Q

    from pbx.models import Extension

    rate = channel_rate(session)
    with session.tenant_schema():
        extensions = (Extension.objects.filter(enabled=True, hidden_from_directory=False)
                      .exclude(Q(voicemail_box__isnull=False) & Q(voicemail_box__hidden_from_directory=True))
                      .select_related("voicemail_box__greeting_name").order_by("name", "number"))
        entries = []
        for extension in extensions:
            words = extension.name.split()
            box = getattr(extension, "voicemail_box", None)
            name = prompt_path(box.greeting_name, rate) if box is not None else None
            entries.append(Entry(extension.pk, extension.number, keypad(words[0]) if words else "",
                                 keypad(words[-1]) if words else "", name or ""))
        return entries


def announce(session: CallSession, entry: Entry) -> None:
    if entry.name_prompt:
        session.play(entry.name_prompt)
    session.play(AT_EXTENSION)
    session.execute("say", f"en number iterated {entry.number}", timeout=60)


@register("directory")
def directory(session: CallSession) -> None:
    if tenant_or_none(session) is None:
        not_in_service(session, "unknown tenant")
        return
    entries = load_entries(session)
    session.answer()
    by_first_name = False
    searches = 0
    while searches < MAX_SEARCHES:
        keys = session.collect(1, LETTERS, timeout=SEARCH_TIMEOUT, terminators="#",
                               prompt=BY_FIRST_NAME if by_first_name else BY_LAST_NAME,
                               regex=r"\*|[2-9]{1,3}", digit_timeout=KEY_TIMEOUT)
        if keys == SWITCH_KEY:
            by_first_name = not by_first_name
            continue
        searches += 1
        matches = [e for e in entries
                   if keys and (e.first_key if by_first_name else e.last_key).startswith(keys)]
        if not matches:
            session.play(NO_MATCH)
            continue
        for entry in matches:
            announce(session, entry)
            choice = session.collect(1, 1, timeout=CHOICE_TIMEOUT, terminators="none", prompt=CHOOSE,
                                     regex="[12]")
            if choice == "1":
                session.transfer(Destination(DestinationKind.EXTENSION, str(entry.pk)).transfer_number)
                return
        session.play(NO_MORE)
    goodbye(session)
