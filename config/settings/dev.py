"""Local development: `make run`. Embedded SQLite under data/, console email, debug on."""

from .base import *  # noqa: F401,F403
from .base import env_list, os

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
ID_HASH_KEY = os.environ.get("ID_HASH_KEY") or "dev-only-id-hash-key"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
