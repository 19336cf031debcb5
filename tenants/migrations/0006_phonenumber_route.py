"""A phone number's route becomes one destination (``kind:ref``, pbx.models.destinations),
like every other route. Existing routes named an extension by its number; they now name
the row, so renumbering an extension cannot break them."""

from django.db import migrations, models


def _row_id(cursor, schema: str, table: str, number: str) -> int | None:
    cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".{table}'])
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute(f'SELECT id FROM "{schema}".{table} WHERE number = %s', [number])
    row = cursor.fetchone()
    return row[0] if row else None


def forwards(apps, schema_editor):
    PhoneNumber = apps.get_model("tenants", "PhoneNumber")
    with schema_editor.connection.cursor() as cursor:
        for number in PhoneNumber.objects.exclude(route_kind="").select_related("account"):
            schema = number.account.schema_name if number.account else None
            route = ""
            if schema and number.route_kind == "voicemail":
                box = _row_id(cursor, schema, "pbx_voicemailbox", number.route_target)
                route = f"voicemail:{box}" if box else ""
            if schema and not route:
                # A voicemail route without a box table yet still reaches the person,
                # whose unanswered calls go to voicemail.
                extension = _row_id(cursor, schema, "pbx_extension", number.route_target)
                route = f"extension:{extension}" if extension else ""
            number.route = route
            number.save(update_fields=["route"])


def backwards(apps, schema_editor):
    PhoneNumber = apps.get_model("tenants", "PhoneNumber")
    with schema_editor.connection.cursor() as cursor:
        for number in PhoneNumber.objects.exclude(route="").select_related("account"):
            kind, _, ref = number.route.partition(":")
            table = {"extension": "pbx_extension", "voicemail": "pbx_voicemailbox"}.get(kind)
            if table is None or number.account is None:
                continue
            cursor.execute(f'SELECT number FROM "{number.account.schema_name}".{table} WHERE id = %s',
                           [int(ref)])
            row = cursor.fetchone()
            if row:
                number.route_kind, number.route_target = kind, row[0]
                number.save(update_fields=["route_kind", "route_target"])


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0005_account_country_account_trunk_source'),
    ]

    operations = [
        migrations.AddField(
            model_name='phonenumber',
            name='route',
            field=models.CharField(blank=True, default='', max_length=40),
        ),
        migrations.AddField(
            model_name='phonenumber',
            name='moh_group_id',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='phonenumber',
            name='privacy_screening',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(
            model_name='phonenumber',
            name='route_kind',
        ),
        migrations.RemoveField(
            model_name='phonenumber',
            name='route_target',
        ),
    ]
