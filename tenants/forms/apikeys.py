from __future__ import annotations

from django import forms

from tenants.models import ApiKey, User
from tenants.scoping import may_change_user


def key_owners(actor: User):
    """Whom ``actor`` may make keys for: themselves, and the active users an admin manages."""
    users = User.objects.filter(is_active=True, account__deleted_at__isnull=True,
                                account__path__startswith=actor.account.path).select_related("account")
    return [user for user in users if user.pk == actor.pk or may_change_user(actor, user)]


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text=ApiKey._meta.get_field("name").help_text)
    user = forms.ModelChoiceField(queryset=User.objects.none(),
                                  help_text="The key acts as this user, with their role, in their account "
                                            "and below.")
    read_only = forms.BooleanField(required=False, help_text=ApiKey._meta.get_field("read_only").help_text)
    expires_at = forms.DateTimeField(required=False, label="Expires",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     help_text="Empty: never.")

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        owners = key_owners(actor)
        self.fields["user"].queryset = User.objects.filter(pk__in=[u.pk for u in owners]).select_related(
            "account")
        self.fields["user"].label_from_instance = lambda u: f"{u.username} ({u.account.name})"
        self.fields["user"].initial = actor.pk
