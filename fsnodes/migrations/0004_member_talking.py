from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fsnodes', '0003_auth_blocks'),
    ]

    operations = [
        migrations.AddField(
            model_name='conferencemember',
            name='talking',
            field=models.BooleanField(default=False),
        ),
    ]
