"""config/startup.py: what each web server process does before its first request."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import startup
from plugins import checks
from search import segment


def test_prepare_server_loads_the_word_segmenter(monkeypatch):
    # The first registration in a worker must not pay ~1 s for jieba's dictionary.
    monkeypatch.setattr(segment, "_tokenizer", None)
    startup.prepare_server()
    assert segment._tokenizer is not None
    assert "漏水" in segment.words("卫生间漏水")


def test_prepare_server_refuses_a_broken_plugin_configuration(monkeypatch):
    from django.core.checks import Error

    monkeypatch.setattr(checks, "check_plugins", lambda: [Error("broken", id="plugins.E999")])
    with pytest.raises(ImproperlyConfigured, match="plugins.E999"):
        startup.prepare_server()
