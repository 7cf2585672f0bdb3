import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_asgi_application()

from plugins.checks import raise_on_plugin_errors  # noqa: E402

raise_on_plugin_errors()
