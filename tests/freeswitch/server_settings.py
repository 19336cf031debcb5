"""Settings of the Switchboard processes the real FreeSWITCH talks to in the tests (the
web server for xml_curl, the call-control server with the node manager).

They are the test settings, pointed at the test process's database, cache keys and media
directory, which the harness passes in the environment (``servers.py``): the test writes
committed data, and its after-commit cache invalidation must reach these processes as it
reaches any other Switchboard process.
"""

import os
from pathlib import Path

from tests.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["SWITCHBOARD_TEST_SERVER_DATABASE"]  # noqa: F405
for _alias in ("default", "fsconf"):
    CACHES[_alias]["KEY_PREFIX"] = os.environ[f"SWITCHBOARD_TEST_SERVER_{_alias.upper()}_CACHE_PREFIX"]  # noqa: F405
if "filebased" in CACHES["fsconf"]["BACKEND"]:  # noqa: F405
    CACHES["fsconf"]["LOCATION"] = os.environ["SWITCHBOARD_TEST_SERVER_FSCONF_CACHE_DIR"]  # noqa: F405
MEDIA_ROOT = Path(os.environ["SWITCHBOARD_TEST_SERVER_MEDIA_ROOT"])
FREESWITCH_MEDIA_BASE = os.environ["SWITCHBOARD_TEST_SERVER_MEDIA_BASE"]
