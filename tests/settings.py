from switchboard.settings import *  # noqa: F403

# Real hashing costs ~0.3 s per user; the suite creates hundreds of users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
