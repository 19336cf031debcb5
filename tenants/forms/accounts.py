"""Admin forms for accounts. They validate through the actions layer's own checks, so
the admin shows field errors for exactly what the action would refuse."""

from __future__ import annotations

import re
import zoneinfo

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError

from tenants.actions import EDITABLE_ACCOUNT_FIELDS, check_new_account, clean_domains, limit_errors
from tenants.models import Account, User
from tenants.scoping import visible_accounts

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


def split_domains(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


class DomainFieldsMixin(forms.Form):
    domain = forms.CharField(
        label="SIP domain (realm)",
        max_length=253,
        help_text="Unique FQDN: the SIP realm phones register to, and the portal hostname, "
        "e.g. acme.pbx.example.net.",
    )
    aliases = forms.CharField(
        label="Domain aliases",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional other domains of this account, one per line.",
    )


class AccountCreateForm(DomainFieldsMixin, forms.ModelForm):
    parent = forms.ModelChoiceField(queryset=Account.objects.none(), label="Parent account")
    admin_username = forms.CharField(label="First admin: username", required=False)
    admin_email = forms.EmailField(label="First admin: email", required=False)
    admin_password = forms.CharField(
        label="First admin: password", required=False, widget=forms.PasswordInput
    )

    class Meta:
        model = Account
        fields = ["name", "kind", *EDITABLE_ACCOUNT_FIELDS[1:]]
        widgets = {"timezone": forms.Select(choices=TIMEZONE_CHOICES)}

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        parents = visible_accounts(actor).filter(
            kind__in=[Account.Kind.MASTER, Account.Kind.RESELLER]
        )
        self.fields["parent"].queryset = parents
        self.fields["parent"].initial = actor.account_id
        kinds = [(Account.Kind.CUSTOMER, "Customer")]
        if actor.account.is_master:
            kinds.append((Account.Kind.RESELLER, "Reseller"))
        self.fields["kind"].choices = kinds
        self.fields["timezone"].initial = actor.account.timezone
        self.fields["country"].initial = actor.account.country
        self.fields["country"].required = False

    def clean_admin_username(self):
        username = self.cleaned_data.get("admin_username", "").strip()
        if username and User.objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with that username already exists.")
        return username

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("admin_username"):
            if not data.get("admin_password"):
                self.add_error("admin_password", "Give the first admin a password.")
            else:
                try:
                    validate_password(data["admin_password"], User(username=data["admin_username"]))
                except ValidationError as exc:
                    self.add_error("admin_password", exc)
        try:
            check_new_account(self.actor, **self.action_kwargs())
        except ValidationError as exc:
            self._add_action_errors(exc)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from exc
        return data

    def _add_action_errors(self, exc: ValidationError) -> None:
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)

    def _post_clean(self):
        # The model is validated by check_new_account (it knows the tree fields are set
        # later by the tree insert); ModelForm's own full_clean would reject them empty.
        pass

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "parent": data["parent"],
            "name": data["name"],
            "kind": data["kind"],
            "domain": data["domain"],
            "aliases": split_domains(data.get("aliases", "")),
            **{f: data[f] for f in EDITABLE_ACCOUNT_FIELDS[1:] if f in data},
            # Not given: numbers are read as in the parent's country.
            "country": data.get("country") or data["parent"].country,
        }

    def admin_user_kwargs(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("admin_username"):
            return None
        return {
            "username": data["admin_username"],
            "email": data.get("admin_email", ""),
            "password": data["admin_password"],
        }


class AccountChangeForm(DomainFieldsMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = list(EDITABLE_ACCOUNT_FIELDS)
        widgets = {"timezone": forms.Select(choices=TIMEZONE_CHOICES)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        domains = list(self.instance.domains.all())
        self.fields["domain"].initial = next((d.domain for d in domains if d.is_primary), "")
        self.fields["aliases"].initial = "\n".join(d.domain for d in domains if not d.is_primary)
        self.fields["country"].required = False

    def clean_country(self) -> str:
        return self.cleaned_data.get("country") or self.instance.country

    def clean(self):
        data = super().clean()
        if "domain" in data:
            try:
                clean_domains(data["domain"], split_domains(data.get("aliases", "")), self.instance,
                              allow_ip=self.instance.is_master)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        if not self.instance.is_master:
            parent = Account.objects.get_parent(self.instance)
            for field, messages in limit_errors(self.instance, parent).items():
                if field in self.fields:
                    self.add_error(field, messages)

    def update_kwargs(self) -> dict:
        return {f: self.cleaned_data[f] for f in EDITABLE_ACCOUNT_FIELDS if f in self.cleaned_data}


class MoveAccountForm(forms.Form):
    new_parent = forms.ModelChoiceField(queryset=Account.objects.none(), label="New parent")

    def __init__(self, *args, actor: User, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = (
            visible_accounts(actor)
            .filter(kind__in=[Account.Kind.MASTER, Account.Kind.RESELLER])
            .exclude(path__startswith=account.path)
        )
