"""Admin forms for trunks and gateways. They check what carriers.actions would refuse
(regexes line by line, unique names, registering without credentials), so the admin
shows field errors; the actions check everything again when the admin writes through
them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from carriers.actions import GATEWAY_FIELDS, TRUNK_FIELDS
from carriers.models import Gateway, Trunk
from carriers.validators import validate_pattern
from tenants.models import Account, User
from tenants.scoping import visible_accounts
from tenants.validators import validate_each


def manageable_accounts(user: User):
    """The accounts whose trunks ``user`` may manage, as tenants.scoping.require_manager_of
    decides: admins of a strict ancestor, or the master's admins for the master itself."""
    if user.account is None or not user.may_write:
        return Account.objects.none()
    accounts = visible_accounts(user)
    if not user.account.is_master:
        accounts = accounts.exclude(pk=user.account_id)
    return accounts


class ActionErrorsMixin:
    """Errors an action raised on a first try of this submission (see
    carriers.admin.TrunkAdmin.changeform_view), shown on the fields they name."""

    action_errors: dict[str, list[str]] | None = None

    def add_action_errors(self) -> None:
        for field, messages in (self.action_errors or {}).items():
            if field in self.fields:
                self.add_error(field, messages)
            elif field == NON_FIELD_ERRORS:
                self.add_error(None, messages)
            else:
                self.add_error(None, [f"{field.replace('_', ' ').capitalize()}: {m}" for m in messages])


class RulesField(forms.CharField):
    """One regular expression per line; blank lines are ignored."""

    widget = forms.Textarea(attrs={"rows": 5, "cols": 60, "style": "font-family: monospace"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        if isinstance(value, list | tuple):
            return list(value)
        return [line.strip() for line in (value or "").splitlines()]

    def validate(self, value: list[str]) -> None:
        validate_each(value, validate_pattern)

    def clean(self, value) -> list[str]:
        lines = self.to_python(value)
        self.validate(lines)
        return [line for line in lines if line]

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        return list(initial or []) != [line for line in self.to_python(data) if line]


class TrunkForm(ActionErrorsMixin, forms.ModelForm):
    rules = RulesField(
        help_text="One regular expression per line on the dialed number in E.164, e.g. "
                  "^\\+(1\\d{10})$. The first group, if any, is what is sent, as captured; "
                  "otherwise the number in the number format below. No rules: every number.",
    )

    class Meta:
        model = Trunk
        fields = ["account", *TRUNK_FIELDS]

    def __init__(self, *args, actor: User, action_errors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.action_errors = action_errors
        if "account" in self.fields:
            self.fields["account"].queryset = manageable_accounts(actor)
            self.fields["account"].help_text = (
                "The account whose calls (and whose sub-accounts' calls) use it.")

    def _account(self) -> Account | None:
        if "account" in self.fields:
            return self.cleaned_data.get("account")
        return self.instance.account

    def clean(self):
        data = super().clean()
        account, name = self._account(), data.get("name")
        if account is not None and name:
            taken = Trunk.objects.filter(account=account, name__iexact=name).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("name", f"{account.name} already has a trunk named {name}.")
        self.add_action_errors()
        return data

    def trunk_fields(self, only_changed: bool) -> dict[str, Any]:
        names = self.changed_data if only_changed else self.cleaned_data
        return {f: self.cleaned_data[f] for f in names if f in TRUNK_FIELDS and f in self.cleaned_data}


class TrunkChangeForm(TrunkForm):
    class Meta(TrunkForm.Meta):
        fields = list(TRUNK_FIELDS)


class GatewayForm(forms.ModelForm):
    password = forms.CharField(
        required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: never shown. Blank keeps the current password.",
    )
    clear_password = forms.BooleanField(required=False, label="Clear password")

    class Meta:
        model = Gateway
        fields = [*GATEWAY_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "codecs" in self.fields:
            self.fields["codecs"].help_text = "Comma-separated, in order: PCMU, PCMA, G722, G729, OPUS."

    def clean(self):
        data = super().clean()
        has_password = bool(data.get("password")) or (
            bool(self.instance.password_encrypted) and not data.get("clear_password")
        )
        if data.get("register") and not (data.get("username") and has_password):
            self.add_error("register", "Registering needs a username and a password.")
        return data

    def action_fields(self) -> dict[str, Any]:
        """What to pass to do_create_trunk/do_save_gateway: every field for a new gateway
        (its position only if typed), the changed ones for an existing one; the password
        only when one was typed or clearing was asked."""
        data = self.cleaned_data
        if self.instance.pk is None:
            names = [f for f in GATEWAY_FIELDS if f != "position" or "position" in self.changed_data]
        else:
            names = [f for f in self.changed_data if f in GATEWAY_FIELDS]
        fields = {name: data[name] for name in names if name in data}
        if data.get("password"):
            fields["password"] = data["password"]
        elif data.get("clear_password") and self.instance.pk is not None:
            fields["password"] = ""
        return fields


class TrunkSourceForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none())
    source = forms.ChoiceField(choices=Account.TrunkSource.choices, label="Outbound trunks")

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        # The master's trunks are the platform's: its source never changes.
        self.fields["account"].queryset = manageable_accounts(actor).exclude(kind=Account.Kind.MASTER)
