"""The PBX part of the demo data (``manage.py seed_demo``): one customer shows every
feature a tenant admin configures, built through the same actions the portal will use.
Idempotent: an account that already has its main menu is left alone."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.actions import (
    Agent,
    do_add_call_block,
    do_add_schedule_event,
    do_create_conference_room,
    do_create_ivr,
    do_create_queue,
    do_create_ring_group,
    do_create_schedule,
    do_create_voicemail_box,
    do_set_follow_me,
    do_set_ivr_options,
    do_set_queue_agents,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.models import CallQueue, Destination, Extension, Ivr, VoicemailBox
from tenants.models import Account

MAIN_MENU = "Main menu"
SALES_QUEUE = "Sales queue"
QUEUE_KEY = "4"


def _to(obj, kind: str) -> str:
    return str(Destination(kind, str(obj.pk)))


def showcase(account: Account) -> str | None:
    """Create the demo's PBX features in ``account`` (extensions 1001-1005 must exist);
    returns the route for its main number, or None when they were there already."""
    with schema_context(account.schema_name):
        built = Ivr.objects.filter(name=MAIN_MENU).exists()
        ext = {e.number: e for e in Extension.objects.filter(number__startswith="100")}
    if built:
        sales_queue(account)  # demo data made before call queues existed
        return None
    to = _to

    general, _ = do_create_voicemail_box(account, number="1099", name="General mailbox", pin="583920")
    sales = do_create_ring_group(account, number="2000", name="Sales", strategy="in_order",
                                 ring_seconds=15, repeat=1, caller_id_name_prefix="Sales",
                                 fallback=to(general, "voicemail"))
    do_set_ring_group_members(account, sales, [(to(ext["1001"], "extension"), 15, True),
                                               (to(ext["1002"], "extension"), 20, True)])
    room = do_create_conference_room(account, number="3000", name="Team bridge",
                                     participant_pin="4321", moderator_pin="876543")
    menu = do_create_ivr(account, name=MAIN_MENU, number="9000",
                         exit_destination=to(ext["1005"], "extension"))
    do_set_ivr_options(account, menu, {
        "1": to(sales, "ring_group"), "2": to(ext["1003"], "extension"), "3": to(room, "conference"),
        "9": "directory", "0": to(ext["1005"], "extension"), "*": to(general, "voicemail"),
    })
    hours = do_create_schedule(account, name="Office hours", open_destination=to(menu, "ivr"),
                               closed_destination=to(general, "voicemail"))
    do_add_schedule_event(account, hours, name="Christmas", repeat="yearly", start_date="2026-12-25",
                          end_date="2026-12-26", all_day=True, action="closed")
    do_add_schedule_event(account, hours, name="Mornings", repeat="weekly", weekdays=[1, 2, 3, 4, 5],
                          start_time="08:30", end_time="12:30", action="open")
    do_add_schedule_event(account, hours, name="Afternoons", repeat="weekly", weekdays=[1, 2, 3, 4, 5],
                          start_time="13:30", end_time="17:30", action="open")
    # Dev works from the road: desk phone first, then the mobile (confirmed, so the
    # carrier's voicemail cannot take the call), then voicemail.
    do_set_follow_me(account, ext["1004"], record_name=True, offer_voicemail=True, steps=[
        {"ring_seconds": 15, "confirm": False, "targets": [to(ext["1004"], "extension")]},
        {"ring_seconds": 25, "confirm": True, "targets": ["external:+14165550142"]},
    ])
    do_update_extension(account, ext["1002"], forward_busy=True, forward_busy_to=to(sales, "ring_group"))
    do_add_call_block(account, pattern="+1900*", comment="Premium-rate numbers")
    do_add_call_block(account, anonymous=True, comment="Callers who hide their number")
    # Alice's own block (My phone, "Call blocking"): calls to 1001 only.
    do_add_call_block(account, pattern="+12125550199", extension=ext["1001"], comment="Keeps calling me")
    sales_queue(account)
    return to(hours, "schedule")


def sales_queue(account: Account) -> None:
    """The Sales queue (number 5000, key 4 of the main menu): Alice and Bob always take
    its calls, Carla after logging in with *62; callers wait at most three minutes, then
    leave a message in the general mailbox. Idempotent."""
    with schema_context(account.schema_name):
        if CallQueue.objects.filter(name=SALES_QUEUE).exists():
            return
        menu = Ivr.objects.get(name=MAIN_MENU)
        options = dict(menu.options.values_list("key", "destination"))
        ext = {e.number: e for e in Extension.objects.filter(number__in=["1001", "1002", "1003"])}
        general = VoicemailBox.objects.get(number="1099")
    queue = do_create_queue(account, number="5000", name=SALES_QUEUE, strategy="longest-idle-agent",
                            max_wait_seconds=180, max_wait_no_agent_seconds=60, exit_key="0",
                            caller_id_name_prefix="Queue", fallback=_to(general, "voicemail"))
    do_set_queue_agents(account, queue, [Agent(ext["1001"]), Agent(ext["1002"]),
                                         Agent(ext["1003"], level=2, login_required=True)])
    do_set_ivr_options(account, menu, {**options, QUEUE_KEY: _to(queue, "queue")})
