import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve with a plugin configuration that cannot work.
from plugins.checks import raise_on_plugin_errors  # noqa: E402

raise_on_plugin_errors()
