"""The REST API of a tenant's PBX: every object under /api/v1/accounts/{account_id}/, one
file name per object (as in pbx/models and pbx/actions); the generic parts are in
switchboard/api/."""
