"""Settings shared by every environment. Environment-specific files import * from here."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SITE_DIR = BASE_DIR / "site"  # site-wide templates, static files and translations (not a package)
DATA_DIR = Path(os.environ.get("ANJU_DATA_DIR", BASE_DIR / "data"))


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Key for the HMAC of owners' ID numbers (ARCHITECTURE.md decision 5). Changing it makes every
# stored hash unmatchable, so production requires it to be set once and kept.
ID_HASH_KEY = os.environ.get("ID_HASH_KEY", "")

# --- Plugins -------------------------------------------------------------------------------
# Dotted paths of plugin AppConfig classes, never the bare module (README, "Plugins"). The
# environment variable PORTAL_PLUGINS, a comma-separated list, overrides.
DEFAULT_PORTAL_PLUGINS: list[str] = ["plugins.cases.apps.CasesPlugin", "plugins.interviews.apps.InterviewsPlugin"]
PORTAL_PLUGINS = (
    env_list("PORTAL_PLUGINS")
    if "PORTAL_PLUGINS" in os.environ
    else list(DEFAULT_PORTAL_PLUGINS)
)
# Deployment choices per plugin label, merged over each plugin's default_settings.
PLUGIN_SETTINGS: dict[str, dict] = {}

INSTALLED_APPS = [
    "accounts",
    "estates",
    "notifications",
    "owners",
    "home",
    "forms",
    "search",
    "plugins",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    *PORTAL_PLUGINS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "home.pagecache.PageCacheMiddleware",  # after the language is known, before cookies are set
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "owners.middleware.OwnerMiddleware",  # request.owner, apart from request.user
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

# --- Database ------------------------------------------------------------------------------
# DATABASE_URL selects the database; the default is an embedded SQLite file under data/.
SQLITE_OPTIONS = {
    # WAL + IMMEDIATE transactions + a busy timeout: concurrent writers wait instead of failing
    # with "database is locked" (ARCHITECTURE.md decision 13).
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_from_env(default_sqlite_path, conn_max_age=0):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{default_sqlite_path}"
    config = dj_database_url.parse(
        url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", conn_max_age)), conn_health_checks=True
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    return config


DATABASES = {"default": database_from_env(DATA_DIR / "anju.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions --------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "anju"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Anonymous page cache (home/pagecache.py): seconds a stored portal page may live; 0 turns it
# off. On by default only with a shared cache, so that every process sees the purges.
PAGE_CACHE_SECONDS = int(os.environ.get("ANJU_PAGE_CACHE_SECONDS", "300" if REDIS_URL else "0"))

# Django's RedisCache is supported by django-ratelimit, which only warns that it cannot tell.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# --- Background work (ARCHITECTURE.md decision 12) -----------------------------------------
TASKS = {
    # Wagtail's own indexing stays in the request, so search never goes stale.
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    # Imports and bulk work; run by `manage.py db_worker --backend background`.
    "background": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

# --- Passwords -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SITE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# --- Static and media ----------------------------------------------------------------------
STATICFILES_DIRS = [SITE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "static_collected"
STATIC_URL = "/static/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"
PRIVATE_ROOT = Path(os.environ.get("PRIVATE_ROOT", DATA_DIR / "private"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Case, inspection and import files: never under MEDIA_URL, served only by permission-checking
    # views (ARCHITECTURE.md decision 10).
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Email ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "安居客服 <service@example.com>")

# --- Notifications (ARCHITECTURE.md decision 9) --------------------------------------------
# Deployment choices only; message texts are templates under templates/notifications/.
NOTIFICATIONS = {
    # Channel name → dotted path of its class (notifications.channels.Channel).
    "CHANNELS": {
        "admin": "notifications.channels.AdminChannel",
        "email": "notifications.channels.EmailChannel",
        "sms": "notifications.channels.SmsChannel",
    },
    # What a staff user gets when send() names no channels (owners' mobiles get SMS).
    "DEFAULT_CHANNELS": ["admin", "email"],
    # SMS provider: notifications.sms.DatabaseBackend (development, tests: stores what would be
    # sent), notifications.sms.ConsoleBackend, or a provider's backend in production.
    "SMS_BACKEND": os.environ.get("SMS_BACKEND", "notifications.sms.DatabaseBackend"),
    # Template name → the provider's approved template code; unmapped names are sent as is.
    "SMS_TEMPLATES": {},
    # Non-urgent SMS wait for the end of this window (local time, TIME_ZONE); None turns it off.
    "QUIET_HOURS": ("21:00", "08:00"),
    # Delivery: tries before a message is marked failed, seconds before the first retry (doubled
    # each time), and the task backend that delivers right after send() commits ("default"
    # delivers in the same process; "background" hands it to the db_worker).
    "MAX_ATTEMPTS": 5,
    "RETRY_DELAY": 60,
    "DELIVERY_TASK_BACKEND": "default",
}

# --- Wagtail -------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "安居"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAIL_ENABLE_UPDATE_CHECK = False  # nothing from the internet at run time
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILEMBEDS_FINDERS: list = []  # no oEmbed: videos are uploaded files
WAGTAIL_I18N_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

# --- Imports -------------------------------------------------------------------------------
# Files with more data rows than this are previewed and applied by the background worker.
ESTATES_IMPORT_BACKGROUND_ROWS = int(os.environ.get("ESTATES_IMPORT_BACKGROUND_ROWS", "5000"))
ESTATES_IMPORT_MAX_BYTES = int(os.environ.get("ESTATES_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"jieba": {"level": "WARNING"}},
}
