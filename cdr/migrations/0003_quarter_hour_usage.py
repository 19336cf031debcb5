"""The hourly roll-up becomes a quarter-hour one (cdr.models.QuarterHourUsage), so that
zones a half or three quarters of an hour off UTC read their own local hours. Rows kept
before keep their UTC hour as its first quarter: right for every whole-hour zone; for
the others, rebuild the months that matter with ``manage.py cdr_backfill_rollups``
(docs/cdr.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cdr', '0002_rollups'),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='hourlyusage', name='cdr_hourly_usage_key'),
        migrations.RenameModel(old_name='HourlyUsage', new_name='QuarterHourUsage'),
        migrations.AlterModelTable(name='quarterhourusage', table='cdr_quarter_hour_usage'),
        migrations.RenameField(model_name='quarterhourusage', old_name='hour', new_name='quarter'),
        migrations.AddConstraint(
            model_name='quarterhourusage',
            constraint=models.UniqueConstraint(fields=('account', 'quarter', 'direction'),
                                               name='cdr_quarter_hour_usage_key'),
        ),
    ]
