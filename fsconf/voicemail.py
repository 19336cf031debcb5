"""Leaving a message, as dialplan applications. mod_voicemail has no per-box switch for
"play the greeting, take no message" (no such directory param in mod_voicemail.c), so an
announcement-only box is played here and the call ends; every other box runs
``voicemail default <domain> <box>``, with the box's uploaded greeting (a pbx.Prompt,
played from ``greeting`` paths FreeSWITCH can read) handed over in
``voicemail_greeting_path``, which voicemail_leave_main plays instead of the recorded
one when the file exists."""

from __future__ import annotations

PROFILE = "default"


def leave_message_actions(
    context: str, box: str, *, announcement_only: bool = False, greeting: str = "",
    busy_greeting: str = "", busy: bool = False,
) -> list[tuple[str, str]]:
    """The applications that let a caller leave a message in box ``box`` of the tenant
    whose voicemail domain (primary domain) is ``context``. ``busy``: the callee was
    busy, so ``busy_greeting`` is played when there is one."""
    path = busy_greeting if busy and busy_greeting else greeting
    actions: list[tuple[str, str]] = [("answer", "")]
    if announcement_only:
        if path:
            actions.append(("playback", path))
        else:
            # The same "the person at extension ... is not available" message
            # mod_voicemail plays when a box has no greeting.
            actions.append(("phrase", f"voicemail_play_greeting,{box}"))
        return [*actions, ("hangup", "NORMAL_CLEARING")]
    if path:
        actions.append(("set", f"voicemail_greeting_path={path}"))
    return [*actions, ("voicemail", f"{PROFILE} {context} {box}")]
