# An employee's own login bound to one extension ("My phone").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0008_api_keys'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='extension_pk',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(choices=[('admin', 'Account admin (full access)'), ('read_only', 'Read only'), ('user_activation', 'User activation (enable/disable users only)'), ('supervisor', 'Call-center supervisor'), ('end_user', 'Employee (My phone: own extension only)')], default='admin', max_length=20),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('extension_pk__isnull', False)), fields=('account', 'extension_pk'), name='one_login_per_extension'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('role', 'end_user'), ('extension_pk__isnull', True), _connector='OR'), name='only_end_users_are_bound'),
        ),
    ]
