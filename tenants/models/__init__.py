from tenants.models.accounts import Account, Domain
from tenants.models.audit import AuditEvent, MasqueradeGrant
from tenants.models.numbers import PhoneNumber
from tenants.models.users import Role, User

__all__ = ["Account", "AuditEvent", "Domain", "MasqueradeGrant", "PhoneNumber", "Role", "User"]
