"""The portal's test world: tenant C1 (the victim) with a person of every role and a few
PBX objects made by the actions; tenant C2's admin is the attacker."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context

from pbx.actions import (
    do_add_call_block,
    do_add_device,
    do_create_conference_room,
    do_create_extension,
    do_create_ivr,
    do_create_ring_group,
    do_create_voicemail_box,
    do_set_ring_group_members,
)
from pbx.actions.endusers import do_invite_end_user
from pbx.actions.followme import do_set_follow_me
from pbx.actions.media import do_add_moh_track, do_create_moh_group, do_upload_prompt
from pbx.actions.queues import Agent, do_create_queue, do_set_queue_agents
from pbx.actions.schedules import do_add_schedule_event, do_create_schedule
from pbx.actions.voicemail_messages import record_left_message
from pbx.media import convert_and_record
from pbx.models import (
    CallBlock,
    CallQueue,
    ConferenceRoom,
    Device,
    Extension,
    FollowMe,
    FollowMeStep,
    FollowMeTarget,
    Ivr,
    IvrOption,
    MohGroup,
    MohTrack,
    Prompt,
    QueueAgent,
    RingGroup,
    RingGroupMember,
    Schedule,
    ScheduleEvent,
    VoicemailBox,
    VoicemailMessage,
)
from pbx.numbers import do_assign_number, do_import_numbers
from tenants.actions import do_create_staff_user
from tenants.models import Account, PhoneNumber, Role, User
from tests.conftest import PASSWORD, Browser, Tree
from webhooks.actions import do_create_webhook
from webhooks.models import Webhook, WebhookDelivery

HOST, OTHER_HOST = "c1.localhost", "c2.localhost"


@dataclass
class World:
    tree: Tree
    account: Account
    people: dict[str, User]
    extension: Extension  # 1001, a member of the ring group, with a device
    spare: Extension  # 1002, used by nothing
    device: Device
    group: RingGroup  # 2000 Sales
    room: ConferenceRoom  # 3000 Board room
    block: CallBlock  # +1900*, incoming
    number: PhoneNumber  # +14165550123, not routed
    ivr: Ivr  # "Main menu", 4000, no keys
    box: VoicemailBox  # 5000 "Reception", shared, used by nothing
    # "Office hours": open → extension 1001, closed → hang up; events "Weekdays" (Mon-Fri
    # 09:00-17:00 open) and "New Year" (every year 01-01, closed), in that order.
    schedule: Schedule | None = None
    event: ScheduleEvent | None = None
    holiday: ScheduleEvent | None = None
    queue: CallQueue | None = None  # 6000 "Help desk", agent 1001 (level 1, logs in with *62)
    # A new message in box 5000, its recording in the storage shared with the nodes.
    message: VoicemailMessage | None = None
    prompt: Prompt | None = None  # "Welcome", converted, used by nothing
    moh: MohGroup | None = None  # "Jazz", one converted track, used by nothing
    track: MohTrack | None = None
    follow_me: FollowMe | None = None  # of 1002: one step ringing +12125550111
    webhook: Webhook | None = None  # https://crm.example.com/hooks, every event
    delivery: WebhookDelivery | None = None  # its call.ended, failed after 9 tries

    def browser(self, who: str | None, host: str = HOST) -> Browser:
        browser = Browser(host)
        return browser.login_as(self.people[who]) if who else browser


def wav(name: str = "tone.wav", seconds: float = 0.5) -> SimpleUploadedFile:
    """A short 440 Hz tone as an uploaded WAV file."""
    buffer = io.BytesIO()
    samples = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(8000 * seconds)) / 8000)
    soundfile.write(buffer, samples, 8000, format="WAV", subtype="PCM_16")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="audio/wav")


def converted(account: Account, obj: Prompt | MohTrack) -> Prompt | MohTrack:
    """``obj`` after its conversion, run here as the Celery task runs it once the upload
    commits (a test's transaction never commits)."""
    with schema_context(account.schema_name):
        convert_and_record(obj._meta.label, obj.pk)
        obj.refresh_from_db()
    return obj


def leave_message(account: Account, box: VoicemailBox, storage: str) -> VoicemailMessage:
    """A caller's message in ``box`` as the node manager records it, with its recording."""
    uuid = "5e0d6a44-1c1f-4f6e-9a57-8d2d3f1b7c01"
    path = Path(storage) / account.primary_domain_name / box.number / f"msg_{uuid}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + bytes(40))
    return record_left_message(account, box.number, uuid=uuid, node="fs-a", file_path=str(path),
                               created_at=timezone.now(), duration=4, caller_id_name="Dana Dunn",
                               caller_id_number="+14165550199")


def state(account: Account) -> dict[str, list]:
    """Everything a portal page could change in ``account``'s schema."""
    with schema_context(account.schema_name):
        return {
            "extensions": list(Extension.objects.order_by("pk").values()),
            "devices": list(Device.objects.order_by("pk").values()),
            "groups": list(RingGroup.objects.order_by("pk").values()),
            "members": list(RingGroupMember.objects.order_by("pk").values()),
            "rooms": list(ConferenceRoom.objects.order_by("pk").values()),
            "blocks": list(CallBlock.objects.order_by("pk").values()),
            "boxes": list(VoicemailBox.objects.order_by("pk").values()),
            "voicemail_messages": list(VoicemailMessage.objects.order_by("pk").values()),
            "ivrs": list(Ivr.objects.order_by("pk").values()),
            "keys": list(IvrOption.objects.order_by("pk").values()),
            "numbers": list(PhoneNumber.objects.filter(account=account).order_by("pk").values()),
            # The account's logins as the admin's pages change them (not last_login:
            # signing in is not a change a page made).
            "logins": list(User.objects.filter(account=account).order_by("pk").values(
                "pk", "username", "role", "is_active", "extension_pk", "email", "password")),
            "schedules": list(Schedule.objects.order_by("pk").values()),
            "events": list(ScheduleEvent.objects.order_by("pk").values()),
            "queues": list(CallQueue.objects.order_by("pk").values()),
            "agents": list(QueueAgent.objects.order_by("pk").values()),
            "prompts": list(Prompt.objects.order_by("pk").values()),
            "moh_groups": list(MohGroup.objects.order_by("pk").values()),
            "moh_tracks": list(MohTrack.objects.order_by("pk").values()),
            "follow_me": list(FollowMe.objects.order_by("pk").values()),
            "follow_me_steps": list(FollowMeStep.objects.order_by("pk").values()),
            "follow_me_targets": list(FollowMeTarget.objects.order_by("pk").values()),
            "webhooks": list(Webhook.objects.filter(account=account).order_by("pk").values()),
            "webhook_deliveries": list(WebhookDelivery.objects.filter(account=account).order_by("pk")
                                        .values()),
        }


@pytest.fixture
def world(tree: Tree, settings, tmp_path) -> World:
    c1 = tree.c1
    reseller = tree.user("r1_admin")
    people = {"admin": tree.user("c1_admin"), "attacker": tree.user("c2_admin")}
    for role in (Role.READ_ONLY, Role.USER_ACTIVATION, Role.SUPERVISOR):
        people[role.value] = do_create_staff_user(reseller, account=c1, username=f"c1_{role.value}",
                                                  password=PASSWORD, role=role)
    extension = do_create_extension(c1, number="1001", name="Alice Archer")
    spare = do_create_extension(c1, number="1002", name="Bob Baker")
    device, _ = do_add_device(c1, extension, label="Desk phone")
    # Alice's own login (My phone), invited by the admin, password chosen.
    people["end_user"] = do_invite_end_user(c1, extension, email="alice@example.com")
    people["end_user"].set_password(PASSWORD)
    people["end_user"].save()
    group = do_create_ring_group(c1, number="2000", name="Sales")
    do_set_ring_group_members(c1, group, [(f"extension:{extension.pk}", None, True)])
    room = do_create_conference_room(c1, number="3000", name="Board room")
    block = do_add_call_block(c1, pattern="+1900*", comment="Premium-rate callers")
    [number] = do_import_numbers(tree.user("master_admin"), ["+14165550123"])
    do_assign_number(tree.user("master_admin"), number, tree.r1)
    number = do_assign_number(reseller, number, c1)
    ivr = do_create_ivr(c1, name="Main menu", number="4000")
    box, _ = do_create_voicemail_box(c1, number="5000", name="Reception")
    world = World(tree, c1, people, extension, spare, device, group, room, block, number, ivr, box)
    settings.VOICEMAIL_STORAGE_DIR = str(tmp_path / "voicemail")
    world.message = leave_message(c1, box, settings.VOICEMAIL_STORAGE_DIR)
    world.schedule = do_create_schedule(c1, name="Office hours", open_destination=f"extension:{extension.pk}")
    world.event = do_add_schedule_event(c1, world.schedule, name="Weekdays", weekdays=[1, 2, 3, 4, 5],
                                        start_time="09:00", end_time="17:00", action="open")
    world.holiday = do_add_schedule_event(c1, world.schedule, name="New Year", repeat="yearly",
                                          start_date="2026-01-01", all_day=True, action="closed")
    world.queue = do_create_queue(c1, number="6000", name="Help desk")
    do_set_queue_agents(c1, world.queue, [Agent(extension.pk, level=1, login_required=True)])
    world.prompt = converted(c1, do_upload_prompt(c1, name="Welcome", upload=wav("welcome.wav")))
    world.moh = do_create_moh_group(c1, name="Jazz")
    world.track = converted(c1, do_add_moh_track(c1, world.moh, upload=wav("take five.wav")))
    world.webhook, _secret = do_create_webhook(c1, actor=None, url="https://crm.example.com/hooks")
    world.delivery = WebhookDelivery.objects.create(
        webhook=world.webhook, account=c1, event="call.ended",
        event_id="0b6d1a52-2f7e-4d4c-9d55-8c1c1f0a0002", payload={"call_uuid": "c-1"}, status="failed",
        attempts=9, last_status_code=500, last_error="HTTP 500")
    world.follow_me = do_set_follow_me(c1, spare, steps=[{"targets": ["external:+12125550111"]}])
    return world
