import os
import tempfile

from switchboard.settings import *  # noqa: F403

# Real hashing costs ~0.3 s per user; the suite creates hundreds of users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Concurrent test runs on one machine share its Redis: keep their documents apart.
CACHES["fsconf"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
if "filebased" in CACHES["fsconf"]["BACKEND"]:  # noqa: F405
    CACHES["fsconf"]["LOCATION"] = os.path.join(  # noqa: F405
        tempfile.gettempdir(), f"switchboard-fsconf-{os.getpid()}"
    )
