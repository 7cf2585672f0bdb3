"""Fast, isolated settings for pytest. DATABASE_URL selects PostgreSQL; SQLite otherwise."""

import tempfile

from .base import *  # noqa: F401,F403
from .base import DATA_DIR, database_from_env, os

DEBUG = False
SECRET_KEY = "test-secret-key"
ID_HASH_KEY = "test-id-hash-key"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {"default": database_from_env(DATA_DIR / "test.sqlite3")}
# Test databases carry a name of their own; CI shares the PostgreSQL server with other work.
# TEST_DATABASE_NAME lets parallel runs on one machine keep apart.
_test_name = os.environ.get("TEST_DATABASE_NAME", "test_anju")
DATABASES["default"]["TEST"] = {"NAME": _test_name}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file rather than memory: subprocess and multi-connection tests see the same data.
    DATABASES["default"]["TEST"]["NAME"] = str(DATA_DIR / f"{_test_name}.sqlite3")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
PAGE_CACHE_SECONDS = 0  # tests of the page cache turn it on themselves
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

_tmp = tempfile.mkdtemp(prefix="anju-test-")
MEDIA_ROOT = os.path.join(_tmp, "media")
PRIVATE_ROOT = os.path.join(_tmp, "private")
STORAGES = {
    **STORAGES,  # noqa: F405
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WAGTAILADMIN_BASE_URL = "http://testserver"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
