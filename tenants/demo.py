"""The demo data's names and logins, importable without Django set up (the runner prints
them)."""

DEMO_LOGINS = [
    ("master", "demo-master-pass", "Switchboard Demo Provider", "admin (http://localhost:8000/admin/)"),
    ("reseller", "demo-reseller-pass", "Northwind Telecom", "admin (http://localhost:8000/admin/)"),
    ("acme-admin", "demo-acme-pass", "Acme Corp", "portal (http://acme.localhost:8000/)"),
    ("beta-admin", "demo-beta-pass", "Beta Ltd", "portal (http://beta.localhost:8000/)"),
    ("acme-readonly", "demo-acme-pass", "Acme Corp", "portal, read-only role"),
]
PASSWORDS = {user: password for user, password, *_ in DEMO_LOGINS}
