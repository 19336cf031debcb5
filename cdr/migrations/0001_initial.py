"""Call records. ``cdr_callrecord`` is built here in SQL: Django cannot declare a
partitioned table. Its primary key holds the partition key (PostgreSQL requires it), and
every index is declared on the parent, so each monthly partition gets its own."""

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE TABLE cdr_callrecord (
    leg_uuid uuid NOT NULL,
    start_at timestamptz NOT NULL,
    account_id bigint NULL,
    account_path varchar(255) NOT NULL DEFAULT '',
    leg varchar(1) NOT NULL,
    call_uuid uuid NOT NULL,
    other_leg_uuid uuid NULL,
    direction varchar(10) NOT NULL,
    caller_number varchar(64) NOT NULL DEFAULT '',
    caller_name varchar(100) NOT NULL DEFAULT '',
    callee_number varchar(64) NOT NULL DEFAULT '',
    extension varchar(32) NOT NULL DEFAULT '',
    did varchar(32) NOT NULL DEFAULT '',
    trunk_id bigint NULL,
    gateway varchar(64) NOT NULL DEFAULT '',
    destination_kind varchar(20) NOT NULL DEFAULT '',
    app varchar(20) NOT NULL DEFAULT '',
    answer_at timestamptz NULL,
    end_at timestamptz NULL,
    duration integer NOT NULL DEFAULT 0,
    billsec integer NOT NULL DEFAULT 0,
    hangup_cause varchar(50) NOT NULL DEFAULT '',
    q850 smallint NULL,
    sip_status smallint NULL,
    node varchar(100) NOT NULL DEFAULT '',
    format varchar(4) NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    raw bytea NULL,
    PRIMARY KEY (leg_uuid, start_at)
) PARTITION BY RANGE (start_at);
CREATE TABLE cdr_callrecord_default PARTITION OF cdr_callrecord DEFAULT;
-- One account's calls by date (history, reports); a reseller's subtree by date.
CREATE INDEX cdr_account_start ON cdr_callrecord (account_id, start_at);
CREATE INDEX cdr_path_start ON cdr_callrecord (account_path varchar_pattern_ops, start_at);
-- Search by number (either side) and by extension, inside an account.
CREATE INDEX cdr_account_caller ON cdr_callrecord (account_id, caller_number, start_at);
CREATE INDEX cdr_account_callee ON cdr_callrecord (account_id, callee_number, start_at);
CREATE INDEX cdr_account_extension ON cdr_callrecord (account_id, extension, start_at);
-- The legs of one call.
CREATE INDEX cdr_call ON cdr_callrecord (call_uuid);
"""
DROP = "DROP TABLE cdr_callrecord CASCADE;"


def create_months_ahead(apps, schema_editor):
    from cdr.partitions import ensure_partitions

    ensure_partitions(ahead=2)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tenants', '0006_phonenumber_route'),
        ('carriers', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='CallRecord',
            fields=[
                ('pk', models.CompositePrimaryKey('leg_uuid', 'start_at', blank=True, editable=False, primary_key=True, serialize=False)),
                ('leg_uuid', models.UUIDField()),
                ('start_at', models.DateTimeField()),
                ('account', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tenants.account')),
                ('account_path', models.CharField(blank=True, max_length=255)),
                ('leg', models.CharField(max_length=1)),
                ('call_uuid', models.UUIDField()),
                ('other_leg_uuid', models.UUIDField(null=True)),
                ('direction', models.CharField(max_length=10)),
                ('caller_number', models.CharField(blank=True, max_length=64)),
                ('caller_name', models.CharField(blank=True, max_length=100)),
                ('callee_number', models.CharField(blank=True, max_length=64)),
                ('extension', models.CharField(blank=True, max_length=32)),
                ('did', models.CharField(blank=True, max_length=32)),
                ('trunk', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='carriers.trunk')),
                ('gateway', models.CharField(blank=True, max_length=64)),
                ('destination_kind', models.CharField(blank=True, max_length=20)),
                ('app', models.CharField(blank=True, max_length=20)),
                ('answer_at', models.DateTimeField(null=True)),
                ('end_at', models.DateTimeField(null=True)),
                ('duration', models.IntegerField(default=0)),
                ('billsec', models.IntegerField(default=0)),
                ('hangup_cause', models.CharField(blank=True, max_length=50)),
                ('q850', models.SmallIntegerField(null=True)),
                ('sip_status', models.SmallIntegerField(null=True)),
                ('node', models.CharField(blank=True, max_length=100)),
                ('format', models.CharField(max_length=4)),
                ('received_at', models.DateTimeField()),
                ('raw', models.BinaryField(null=True)),
            ],
            options={
                'db_table': 'cdr_callrecord',
                'managed': False,
            },
        ),
        migrations.RunSQL(CREATE, DROP),
        migrations.RunPython(create_months_ahead, migrations.RunPython.noop),
        migrations.CreateModel(
            name='RejectedPost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_at', models.DateTimeField(auto_now_add=True)),
                ('last_seen_at', models.DateTimeField(auto_now=True)),
                ('attempts', models.PositiveIntegerField(default=1)),
                ('remote_addr', models.CharField(max_length=64)),
                ('query_uuid', models.CharField(blank=True, max_length=80)),
                ('content_type', models.CharField(blank=True, max_length=100)),
                ('reason', models.CharField(max_length=300)),
                ('sha256', models.CharField(max_length=64, unique=True)),
                ('body', models.BinaryField()),
            ],
            options={
                'ordering': ['-received_at'],
            },
        ),
        migrations.CreateModel(
            name='RetentionPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('keep_days', models.PositiveIntegerField()),
                ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='call_record_retention', to='tenants.account')),
            ],
        ),
    ]
