from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError

from tenants.models import Account, Role, User
from tenants.scoping import visible_accounts


class StaffUserCreateForm(forms.ModelForm):
    account = forms.ModelChoiceField(queryset=Account.objects.none())
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name", "account", "role"]

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = visible_accounts(actor)
        self.fields["account"].initial = actor.account_id
        self.fields["role"].choices = Role.choices

    def clean(self):
        data = super().clean()
        if data.get("password"):
            try:
                validate_password(data["password"], User(username=data.get("username", "")))
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class StaffUserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "role", "is_active"]


class StaffPasswordForm(forms.Form):
    """The admin's set-password page for a staff user: the new password twice. Only the
    two fields are compared here; the rules (Django's password validators) are the
    action's, tenants.actions.do_set_staff_password, as for the API."""

    password1 = forms.CharField(label="New password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password",
                                                                  "autofocus": True}),
                                help_text=password_validators_help_text_html())
    password2 = forms.CharField(label="New password again", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return data
