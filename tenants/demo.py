"""The demo data's names and logins, importable without Django set up (the runner prints
them)."""

# username, password, account, where it signs in (None: the admin on the provider's host)
DEMO_LOGINS = [
    ("master", "demo-master-pass", "Switchboard Demo Provider", None),
    ("reseller", "demo-reseller-pass", "Northwind Telecom", None),
    ("acme-admin", "demo-acme-pass", "Acme Corp", "acme.localhost"),
    ("beta-admin", "demo-beta-pass", "Beta Ltd", "beta.localhost"),
    ("acme-readonly", "demo-acme-pass", "Acme Corp (read-only role)", "acme.localhost"),
    ("acme-alice", "demo-alice-pass", "Acme Corp (employee, 1001)", "acme.localhost"),
]
PASSWORDS = {user: password for user, password, *_ in DEMO_LOGINS}
