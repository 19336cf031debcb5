import atexit
import os
import shutil
import tempfile
from pathlib import Path

from switchboard.settings import *  # noqa: F403

# Real hashing costs ~0.3 s per user; the suite creates hundreds of users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Test runs share this machine with each other (pytest-xdist workers, other checkouts)
# and with bin/run's data: every test process keeps its own keys and files, which all
# repeat from process to process (schema names, primary keys).
_SCRATCH = tempfile.mkdtemp(prefix=f"switchboard-test-{os.getpid()}-")
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)

CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
CACHES["fsconf"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
if "filebased" in CACHES["fsconf"]["BACKEND"]:  # noqa: F405
    CACHES["fsconf"]["LOCATION"] = os.path.join(_SCRATCH, "fsconf-cache")  # noqa: F405

# Media written by the actions (hold-music folders, converted prompts) goes here, not
# into .data/media; FreeSWITCH's view of it follows unless the environment names one.
MEDIA_ROOT = Path(_SCRATCH) / "media"
if not os.environ.get("FREESWITCH_MEDIA_BASE"):
    FREESWITCH_MEDIA_BASE = str(MEDIA_ROOT)
