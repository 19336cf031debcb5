from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0006_phonenumber_route"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="allow_premium_rate",
            field=models.BooleanField(
                default=False,
                help_text="Allow outbound calls to premium-rate and other revenue-share numbers "
                          "(+1 900, UK 09 and 070, shared-cost ranges); each extension needs it too.",
                verbose_name="allow premium-rate calls",
            ),
        ),
    ]
