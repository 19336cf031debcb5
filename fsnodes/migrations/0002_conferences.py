import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("fsnodes", "0001_initial"),
        ("tenants", "0005_account_country_account_trunk_source"),
    ]

    operations = [
        migrations.CreateModel(
            name="Conference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=255)),
                ("room", models.CharField(blank=True, max_length=64)),
                ("conference_uuid", models.CharField(blank=True, max_length=64)),
                ("locked", models.BooleanField(default=False)),
                ("recordings", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("account", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="tenants.account")),
                ("node", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="conferences", to="fsnodes.freeswitchnode")),
            ],
            options={
                "ordering": ["name"],
                "indexes": [models.Index(fields=["account", "room"], name="fsnodes_conference_room")],
                "constraints": [models.UniqueConstraint(fields=("node", "name"), name="fsnodes_conference_node_name")],
            },
        ),
        migrations.CreateModel(
            name="ConferenceMember",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("member_id", models.PositiveIntegerField()),
                ("uuid", models.CharField(blank=True, max_length=64)),
                ("caller_id_name", models.CharField(blank=True, max_length=255)),
                ("caller_id_number", models.CharField(blank=True, max_length=255)),
                ("can_hear", models.BooleanField(default=True)),
                ("can_speak", models.BooleanField(default=True)),
                ("moderator", models.BooleanField(default=False)),
                ("joined_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("conference", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="members", to="fsnodes.conference")),
            ],
            options={
                "ordering": ["member_id"],
                "constraints": [models.UniqueConstraint(fields=("conference", "member_id"), name="fsnodes_member_conference_id")],
            },
        ),
    ]
