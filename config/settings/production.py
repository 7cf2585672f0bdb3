"""Production: everything from the environment; refuses to start without the essentials."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import DATA_DIR, database_from_env, env_bool, env_list, os

DEBUG = False


def required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Production settings need the environment variable {name}.")
    return value


SECRET_KEY = required("SECRET_KEY")
ID_HASH_KEY = required("ID_HASH_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Production settings need ALLOWED_HOSTS (comma-separated).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
REDIS_URL = required("REDIS_URL")  # rate limits and sessions must be shared across workers
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "anju"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
# Each worker thread keeps its connection for a minute (checked before reuse): a new PostgreSQL
# connection per request costs a process fork and the session set-up.
DATABASES = {"default": database_from_env(DATA_DIR / "anju.sqlite3", conn_max_age=60)}

# --- HTTPS and cookies ----------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxy REMOTE_ADDR is the proxy: name the header it sets to the client's address
# (e.g. HTTP_X_REAL_IP, which the proxy must overwrite), or every "per IP" limit is site-wide.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY", "").strip() or None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # Wagtail marks its preview views SAMEORIGIN itself

MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "whitenoise.middleware.WhiteNoiseMiddleware")

# --- Static files by WhiteNoise; media on local disk or S3-compatible storage ------------------
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if os.environ.get("MEDIA_STORAGE_BACKEND"):
    # e.g. storages.backends.s3.S3Storage (install django-storages and set its AWS_* variables)
    STORAGES["default"] = {"BACKEND": os.environ["MEDIA_STORAGE_BACKEND"]}
if os.environ.get("PRIVATE_STORAGE_BACKEND"):
    STORAGES["private"] = {"BACKEND": os.environ["PRIVATE_STORAGE_BACKEND"]}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", "root@localhost")
