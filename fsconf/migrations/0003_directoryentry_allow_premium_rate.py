from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fsconf', '0002_routing_facts'),
    ]

    operations = [
        migrations.AddField(
            model_name='directoryentry',
            name='allow_premium_rate',
            field=models.BooleanField(null=True),
        ),
    ]
