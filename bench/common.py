"""Shared set-up for benchmarks: a throw-away database on the same server as the app."""

from __future__ import annotations

import os
import platform
import statistics
from urllib.parse import urlparse, urlunparse


def use_bench_database(name: str) -> str:
    """Point DATABASE_URL at a fresh database ``name`` on the configured server."""
    from switchboard.database import database_url

    url = urlparse(database_url())
    import psycopg

    admin_url = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        server_version = conn.execute("SHOW server_version").fetchone()[0]
    bench_url = urlunparse(url._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["SWITCHBOARD_BENCH_PG_VERSION"] = server_version
    return bench_url


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    # Whole GiB of RAM, as `free -g` printed it, without needing procps installed.
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {os.environ.get('SWITCHBOARD_BENCH_PG_VERSION')}"
    )


def summary(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.1f} / {p95:.1f} / {ordered[-1]:.1f}"
