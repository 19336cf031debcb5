"""Production settings plus psycopg's connection pool (Django >= 5.1), for the gevent worker:
under gevent every request is its own greenlet and Django's connections are per greenlet,
so CONN_MAX_AGE never reuses one; a pool shared by the process does."""

from switchboard.settings import *  # noqa: F403
from switchboard.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0  # required with a pool
DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 4, "max_size": 16, "timeout": 5}
