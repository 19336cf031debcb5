from tenants.forms.accounts import AccountChangeForm, AccountCreateForm, MoveAccountForm
from tenants.forms.apikeys import ApiKeyCreateForm
from tenants.forms.users import StaffPasswordForm, StaffUserChangeForm, StaffUserCreateForm

__all__ = [
    "AccountChangeForm",
    "AccountCreateForm",
    "ApiKeyCreateForm",
    "MoveAccountForm",
    "StaffPasswordForm",
    "StaffUserChangeForm",
    "StaffUserCreateForm",
]
