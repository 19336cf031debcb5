from tenants.models.accounts import Account, Domain
from tenants.models.apikeys import ApiKey
from tenants.models.audit import AuditEvent, MasqueradeGrant
from tenants.models.idempotency import IdempotencyRecord
from tenants.models.jobs import Job
from tenants.models.numbers import PhoneNumber
from tenants.models.users import Role, User

__all__ = ["Account", "ApiKey", "AuditEvent", "Domain", "IdempotencyRecord", "Job", "MasqueradeGrant",
           "PhoneNumber", "Role", "User"]
