from tenants.forms.accounts import AccountChangeForm, AccountCreateForm, MoveAccountForm
from tenants.forms.users import StaffUserChangeForm, StaffUserCreateForm

__all__ = [
    "AccountChangeForm",
    "AccountCreateForm",
    "MoveAccountForm",
    "StaffUserChangeForm",
    "StaffUserCreateForm",
]
