from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("pbx", "0006_call_queues"),
    ]

    operations = [
        migrations.AddField(
            model_name="extension",
            name="allow_premium_rate",
            field=models.BooleanField(
                default=False,
                help_text="Premium-rate and other revenue-share numbers (+1 900, UK 09 and 070, ...), "
                          "within the call permission; the account must allow them too.",
                verbose_name="may call premium-rate numbers",
            ),
        ),
    ]
