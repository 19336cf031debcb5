from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("carriers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="trunk",
            name="send_asserted_identity",
            field=models.BooleanField(
                default=False,
                help_text="The carrier wants the caller ID in a P-Asserted-Identity header too "
                          "(FreeSWITCH's caller-ID type pid); otherwise the profile's (Remote-Party-ID).",
                verbose_name="send P-Asserted-Identity",
            ),
        ),
    ]
