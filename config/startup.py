"""What a web server process does once, after Django is set up and before it takes a request
(config/wsgi.py, config/asgi.py). gunicorn runs no system checks and imports the application
in each worker, so this is the place for work the first request must not pay for."""


def prepare_server():
    # Refuse to serve with a plugin configuration that cannot work.
    from plugins.checks import raise_on_plugin_errors

    raise_on_plugin_errors()
    # Load jieba's dictionary now (about 1 s): otherwise the first case registered or searched
    # in each worker waits for it, and so does every request queued behind that one.
    from search.segment import warm_up

    warm_up()
