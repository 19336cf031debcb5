"""Call records: one row per leg in the public schema, tied to its account and the
account's tree path (a reseller's usage is one prefix scan over ``account_path``).

``cdr_callrecord`` is partitioned by month on ``start_at`` (PostgreSQL declarative
partitioning, created by migration 0001 with RunSQL; cdr.partitions keeps the months
ahead), so Django does not manage it. Its primary key is (leg_uuid, start_at): the
partition key has to be part of it, and a retried post carries the same start time, so
``INSERT ... ON CONFLICT DO NOTHING`` on it stores each leg once.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Account


class CallRecord(models.Model):
    pk = models.CompositePrimaryKey("leg_uuid", "start_at")
    leg_uuid = models.UUIDField()
    start_at = models.DateTimeField()
    account = models.ForeignKey("tenants.Account", null=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    account_path = models.CharField(max_length=255, blank=True)
    leg = models.CharField(max_length=1)  # "a" came in, "b" we originated
    call_uuid = models.UUIDField()  # the call's a-leg: every leg of one call shares it
    other_leg_uuid = models.UUIDField(null=True)
    direction = models.CharField(max_length=10)  # inbound, outbound, internal
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=100, blank=True)
    callee_number = models.CharField(max_length=64, blank=True)
    extension = models.CharField(max_length=32, blank=True)
    did = models.CharField(max_length=32, blank=True)
    trunk = models.ForeignKey("carriers.Trunk", null=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    gateway = models.CharField(max_length=64, blank=True)
    destination_kind = models.CharField(max_length=20, blank=True)
    app = models.CharField(max_length=20, blank=True)
    answer_at = models.DateTimeField(null=True)
    end_at = models.DateTimeField(null=True)
    duration = models.IntegerField(default=0)
    billsec = models.IntegerField(default=0)
    hangup_cause = models.CharField(max_length=50, blank=True)
    q850 = models.SmallIntegerField(null=True)
    sip_status = models.SmallIntegerField(null=True)
    node = models.CharField(max_length=100, blank=True)
    format = models.CharField(max_length=4)
    received_at = models.DateTimeField()
    # The post as received, zlib-compressed; emptied after CDR_RAW_RETENTION_DAYS.
    raw = models.BinaryField(null=True)

    class Meta:
        managed = False
        db_table = "cdr_callrecord"

    def __str__(self) -> str:
        return f"{self.leg_uuid} {self.start_at:%Y-%m-%d %H:%M:%S}"


class RejectedPost(models.Model):
    """A post we could not read, kept whole for inspection. FreeSWITCH was answered with
    an error, so it also keeps its own copy (err-log-dir) to replay once we read it."""

    received_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=1)
    remote_addr = models.CharField(max_length=64)
    query_uuid = models.CharField(max_length=80, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64, unique=True)
    body = models.BinaryField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.reason}"


class RetentionPolicy(models.Model):
    """How long an account's call records are kept, if not CDR_RETENTION_DAYS."""

    account = models.OneToOneField("tenants.Account", on_delete=models.CASCADE,
                                   related_name="call_record_retention")
    keep_days = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.account_id}: {self.keep_days} days"


# ----------------------------------------------------------------------------------------
# Roll-ups kept at ingest (cdr.rollups): the reports read these, never the records, so a
# tenant-month or a reseller's month is a few thousand rows whatever the record count.
# Each is added to by the same statement that inserts the leg, and only when that insert
# actually inserted (a retried post adds nothing). Keys hold no NULL ('' or 0 instead),
# so ON CONFLICT finds the row on every PostgreSQL version.


class QuarterHourUsage(models.Model):
    """Calls (a-legs: one per call) per account, UTC quarter hour and direction: ASR,
    ALOC and the per-hour/per-day chart, shifted to the account's time zone when read.
    Quarter hours, not hours: every time zone's offset is a whole number of quarter
    hours (India +5:30, Nepal +5:45, Adelaide +9:30/+10:30), so each quarter falls in
    exactly one local hour, whatever the zone and on DST days too."""

    account = models.ForeignKey("tenants.Account", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")  # the key leads with it
    quarter = models.DateTimeField()  # its start, on :00, :15, :30 or :45 UTC
    direction = models.CharField(max_length=10)
    calls = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    busy = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    billsec = models.BigIntegerField(default=0)

    class Meta:
        db_table = "cdr_quarter_hour_usage"
        constraints = [models.UniqueConstraint(fields=["account", "quarter", "direction"],
                                               name="cdr_quarter_hour_usage_key")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.quarter:%Y-%m-%d %H:%M} {self.direction}"


class DailyUsage(models.Model):
    """Calls (a-legs) per account, local day (the account's time zone at ingest),
    direction, DID and call class (outbound only: local, domestic, international,
    emergency; '' when the number could not be read): per-number usage and the
    reseller's monthly usage by class."""

    account = models.ForeignKey("tenants.Account", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")  # the key leads with it
    day = models.DateField()
    direction = models.CharField(max_length=10)
    did = models.CharField(max_length=32, blank=True)
    call_class = models.CharField(max_length=16, blank=True)
    calls = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    busy = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    billsec = models.BigIntegerField(default=0)

    class Meta:
        db_table = "cdr_daily_usage"
        constraints = [models.UniqueConstraint(fields=["account", "day", "direction", "did", "call_class"],
                                               name="cdr_daily_usage_key")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.direction} {self.did} {self.call_class}"


class ExtensionUsage(models.Model):
    """Legs per account, local day and extension: ``made`` (its a-legs: the phone
    called) and ``received`` (its b-legs: it was rung)."""

    account = models.ForeignKey("tenants.Account", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")  # the key leads with it
    day = models.DateField()
    extension = models.CharField(max_length=32)
    role = models.CharField(max_length=8)
    calls = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    billsec = models.BigIntegerField(default=0)

    class Meta:
        db_table = "cdr_daily_extension_usage"
        constraints = [models.UniqueConstraint(fields=["account", "day", "extension", "role"],
                                               name="cdr_daily_extension_usage_key")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.extension} {self.role}"


class TrunkUsage(models.Model):
    """Legs that went through a trunk's gateway, per account, local day, trunk, gateway
    and direction."""

    account = models.ForeignKey("tenants.Account", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")  # the key leads with it
    day = models.DateField()
    trunk = models.ForeignKey("carriers.Trunk", on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")
    gateway = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=10)
    calls = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    billsec = models.BigIntegerField(default=0)

    class Meta:
        db_table = "cdr_daily_trunk_usage"
        constraints = [models.UniqueConstraint(fields=["account", "day", "trunk", "gateway", "direction"],
                                               name="cdr_daily_trunk_usage_key")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} trunk {self.trunk_id} {self.direction}"


class UsageReport(Account):
    """No table of its own: the admin's "Usage per month" page (cdr.admin.UsageReportAdmin)
    hangs on this proxy of the account, so the master's and resellers' staff find it on
    the admin's index beside the accounts, scoped like them."""

    class Meta:
        proxy = True
        verbose_name = "usage per month"
        verbose_name_plural = "usage per month"
