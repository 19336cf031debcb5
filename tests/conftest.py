from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client

from common.dbhealth import breaker
from fsconf.cache import reset_platform_generation
from tenants.actions import do_bootstrap_master, do_create_account, do_create_staff_user
from tenants.models import Account, Role, User
from tenants.provisioning import refresh_template
from tests import spare_pool

PASSWORD = "a-long-test-password"


def pytest_report_header(config):
    """Which FreeSWITCH the real-FreeSWITCH tests use, or loudly that there is none."""
    from tests.freeswitch.harness import report_header

    return report_header()


def pytest_terminal_summary(terminalreporter):
    from tests.freeswitch.harness import terminal_summary

    terminal_summary(terminalreporter)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        refresh_template()
        spare_pool.fill()


# The fixtures (and marker) through which pytest-django opens a test's database.
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _pristine_spare_pool(request, django_db_blocker):
    """Every database test finds the spare pool as fresh copies of the template
    (tests/spare_pool.py)."""
    if not (_DATABASE_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        spare_pool.restore_sequences()


@pytest.fixture
def no_spares(db):
    """An empty spare pool for this test: an account gets a fresh copy of the template."""
    spare_pool.empty()


@pytest.fixture(autouse=True)
def _fresh_fsconf_cache():
    """Schemas and pks repeat from test to test while the cache outlives the rolled-back
    data: start each test under a new platform generation."""
    reset_platform_generation()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): write(...)`` runs the write's after-commit work (cache
    invalidation, queued commands) as a real commit would; the test's own transaction
    keeps every test isolated."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _database_breaker_closed():
    """A test that makes the database unreachable opens the process-wide breaker
    (common.dbhealth); the next test starts with it closed."""
    yield
    breaker.reset()


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


class Browser(Client):
    """A test client bound to one hostname. django-tenants leaves the connection in the
    last request's schema; the test body then works in public again, as a fresh request
    would."""

    def __init__(self, host: str, **kwargs):
        super().__init__(HTTP_HOST=host, **kwargs)
        self.host = host

    def request(self, **request):
        try:
            return super().request(**request)
        finally:
            connection.set_schema_to_public()

    def login_as(self, user: User) -> Browser:
        """Sign in as a real sign-in on this host would (session bound to its tenant)."""
        from tenants.models import Domain
        from tenants.sessions import SESSION_TENANT_KEY

        self.force_login(user)
        session = self.session
        session[SESSION_TENANT_KEY] = Domain.objects.get(domain=self.host).tenant_id
        session.save()
        return self


@dataclass
class Tree:
    """master
       ├─ r1 (reseller)            user r1_admin, r1_readonly, r1_activation
       │   ├─ c1 (customer)        user c1_admin
       │   └─ r1a (reseller)       user r1a_admin
       │       └─ c1a (customer)   user c1a_admin
       ├─ r2 (reseller)            user r2_admin
       │   └─ c2 (customer)        user c2_admin
       └─ c0 (customer)            user c0_admin
    """

    master: Account
    r1: Account
    c1: Account
    r1a: Account
    c1a: Account
    r2: Account
    c2: Account
    c0: Account
    users: dict[str, User]

    def user(self, name: str) -> User:
        return self.users[name]

    def refresh(self) -> None:
        for name in ("master", "r1", "c1", "r1a", "c1a", "r2", "c2", "c0"):
            getattr(self, name).refresh_from_db()


def make_account(actor: User, parent: Account, name: str, kind=Account.Kind.CUSTOMER, **kw):
    slug = name.lower().replace(" ", "-")
    return do_create_account(
        actor, parent=parent, name=name, kind=kind, domain=f"{slug}.example.net",
        aliases=[f"{slug}.localhost"], **kw,
    )


@pytest.fixture
def tree(db) -> Tree:
    master = do_bootstrap_master(
        name="Provider", domains=["localhost", "127.0.0.1"],
        admin_username="master_admin", admin_password=PASSWORD,
    )
    m = User.objects.get(username="master_admin")
    users = {"master_admin": m}

    def staff(actor, account, username, role=Role.ADMIN):
        users[username] = do_create_staff_user(
            actor, account=account, username=username, password=PASSWORD, role=role
        )
        return users[username]

    r1 = make_account(m, master, "R1", Account.Kind.RESELLER)
    r1_admin = staff(m, r1, "r1_admin")
    staff(m, r1, "r1_readonly", Role.READ_ONLY)
    staff(m, r1, "r1_activation", Role.USER_ACTIVATION)
    c1 = make_account(r1_admin, r1, "C1")
    staff(r1_admin, c1, "c1_admin")
    r1a = make_account(m, r1, "R1A", Account.Kind.RESELLER)
    r1a_admin = staff(m, r1a, "r1a_admin")
    c1a = make_account(r1a_admin, r1a, "C1A")
    staff(r1a_admin, c1a, "c1a_admin")
    r2 = make_account(m, master, "R2", Account.Kind.RESELLER)
    r2_admin = staff(m, r2, "r2_admin")
    c2 = make_account(r2_admin, r2, "C2")
    staff(r2_admin, c2, "c2_admin")
    c0 = make_account(m, master, "C0")
    staff(m, c0, "c0_admin")
    built = Tree(master, r1, c1, r1a, c1a, r2, c2, c0, users)
    built.refresh()
    return built


@pytest.fixture
def admin_host() -> str:
    return "localhost"


def route_to(account: Account, kind: str, number: str) -> str:
    """The stored destination for ``kind`` (extension, voicemail, ...) ``number`` in
    ``account``'s schema, as a route is written."""
    from django_tenants.utils import schema_context

    from pbx.destinations import model_for

    with schema_context(account.schema_name):
        return f"{kind}:{model_for(kind).objects.get(number=number).pk}"
