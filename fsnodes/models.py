"""FreeSWITCH nodes and the durable outbox of commands for them (public schema)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.secrets import decrypt_secret, encrypt_secret


class FreeswitchNode(models.Model):
    """A FreeSWITCH server whose inbound event socket Switchboard talks to."""

    class Source(models.TextChoices):
        # Kept in step with the FREESWITCH_NODES setting by fsnodes.nodes.sync_configured_nodes.
        SETTINGS = "settings", "FREESWITCH_NODES setting"
        # Created in the admin or the shell; the setting never touches these.
        MANUAL = "manual", "added by hand"

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=255)
    esl_port = models.PositiveIntegerField(default=8021)
    # Fernet token (common.secrets), never the plaintext: use .esl_password / set_esl_password().
    esl_password_encrypted = models.TextField()
    enabled = models.BooleanField(default=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "FreeSWITCH node"

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.esl_port})"

    @property
    def esl_password(self) -> str | None:
        """The plaintext, or None if it was encrypted with a key no longer configured."""
        return decrypt_secret(self.esl_password_encrypted)

    def set_esl_password(self, plaintext: str) -> None:
        self.esl_password_encrypted = encrypt_secret(plaintext)


class NodeCommand(models.Model):
    """One ``api`` command for one node, written in the transaction of the change that needs
    it and delivered after commit (fsnodes.delivery). Per node, commands are sent in ``id``
    order and a command waits while an older one of its node is waiting to be retried."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DONE = "done", "done"
        # FreeSWITCH answered -ERR: retrying cannot help, so it is not retried.
        FAILED = "failed", "failed"

    node = models.ForeignKey(FreeswitchNode, on_delete=models.CASCADE, related_name="commands")
    command = models.TextField(help_text="e.g. xml_flush_cache id 1001 acme.example.net")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # Sessions that ended without an answer to this command (connect, auth, timeout, ...).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When FreeSWITCH answered it (DONE or FAILED).
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    reply = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The delivery queries: pending commands of a node in order, and due ones.
            models.Index(
                fields=["node", "id"], condition=Q(status="pending"), name="fsnodes_cmd_pending_node"
            ),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="fsnodes_cmd_pending_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node_id}: {self.command} [{self.status}]"


class Conference(models.Model):
    """A conference running on a node, as its ``conference::maintenance`` events tell it
    (``fsnodes.conference_registry``). Soft state: rebuilt from ``conference list`` each
    time the manager (re)connects to the node, kept current by events in between.

    Kept in PostgreSQL rather than Redis: every process (web, worker, call control) has
    the database, while Redis is optional here (without ``REDIS_URL`` the default cache
    is per process); the tenant filter is then a plain indexed ``account_id`` column; and
    the few writes per join or leave are nothing next to a call's own work. Talking
    is kept too (``ConferenceMember.talking``): mod_conference sends one start-talking
    and one stop-talking per burst of speech (its energy gate, not per packet), a
    one-row update each, which the live conference center shows."""

    node = models.ForeignKey(FreeswitchNode, on_delete=models.CASCADE, related_name="conferences")
    # The name FreeSWITCH knows it by, e.g. "3000-acme.example.net" (fsnodes.conference_registry).
    name = models.CharField(max_length=255)
    # The owner, read from the name once when the conference is first seen; NULL: the name
    # is not a tenant conference's, and no tenant-scoped function ever returns it.
    account = models.ForeignKey(
        "tenants.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    room = models.CharField(max_length=64, blank=True)
    conference_uuid = models.CharField(max_length=64, blank=True)
    locked = models.BooleanField(default=False)
    # Paths being recorded (start-recording / stop-recording events).
    recordings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["node", "name"], name="fsnodes_conference_node_name")]
        indexes = [models.Index(fields=["account", "room"], name="fsnodes_conference_room")]

    def __str__(self) -> str:
        return f"{self.name} on {self.node_id}"


class ConferenceMember(models.Model):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="members")
    # mod_conference's member id: unique per node (one process-wide counter), not per room.
    member_id = models.PositiveIntegerField()
    uuid = models.CharField(max_length=64, blank=True)
    caller_id_name = models.CharField(max_length=255, blank=True)
    caller_id_number = models.CharField(max_length=255, blank=True)
    can_hear = models.BooleanField(default=True)
    can_speak = models.BooleanField(default=True)
    moderator = models.BooleanField(default=False)
    # Speaking right now (start-talking / stop-talking, the "Talking" header of member
    # events, the "talking" flag of ``conference list``).
    talking = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["member_id"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "member_id"], name="fsnodes_member_conference_id")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.conference_id}"


class AuthBlock(models.Model):
    """SIP authentication refused for a while after too many wrong passwords
    (``fsnodes.auth_guard``): for one user of one account (the directory answers
    not-found for that user's ``sip_auth`` lookups), or for one source address (every
    ``sip_auth`` lookup from it). Ended by time (``expires_at``) or by an admin
    (``cleared_at``); rows are kept as the history."""

    class Kind(models.TextChoices):
        USER = "user", "SIP user"
        ADDRESS = "address", "source address"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # USER: the account, the SIP username (device username or extension number) and the
    # domain it was tried in. ADDRESS: account is empty (an address may try any tenant).
    account = models.ForeignKey("tenants.Account", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="auth_blocks")
    user_id = models.CharField(max_length=100, blank=True)
    domain = models.CharField(max_length=255, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    failures = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "SIP authentication block"
        indexes = [
            # The directory's check on a cold sip_auth fetch reads only live blocks.
            models.Index(fields=["account", "user_id"], condition=Q(cleared_at__isnull=True),
                         name="fsnodes_authblock_user_live"),
            models.Index(fields=["address"], condition=Q(cleared_at__isnull=True),
                         name="fsnodes_authblock_addr_live"),
        ]

    def __str__(self) -> str:
        who = f"{self.user_id}@{self.domain}" if self.kind == self.Kind.USER else str(self.address)
        return f"{self.get_kind_display()} {who}"

    @property
    def active(self) -> bool:
        return self.cleared_at is None and self.expires_at > timezone.now()
