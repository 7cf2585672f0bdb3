"""SMS backends. Chinese providers accept only approved templates, so a backend sends a template
code with its parameters, never free text. Choose one with NOTIFICATIONS["SMS_BACKEND"].

A provider backend subclasses ``BaseBackend`` and raises ``SmsError`` (or any exception) when
the provider refuses; the outbox records the error and retries.
"""

import json
import sys
import threading


class SmsError(Exception):
    """The provider did not accept the message."""


class BaseBackend:
    def send(self, mobile, template_code, params):
        """Send template ``template_code`` with ``params`` (a dict of strings) to the 11-digit
        ``mobile``. Returns the provider's message id, or "" when it gives none."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes each message to standard output."""

    def __init__(self, stream=None):
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, mobile, template_code, params):
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(f"[SMS] {mobile} {template_code} {json.dumps(params, ensure_ascii=False)}\n")
            stream.flush()
        return ""


class DatabaseBackend(BaseBackend):
    """Stores what would be sent as a SmsRecord row, for development and tests."""

    def send(self, mobile, template_code, params):
        from .models import SmsRecord

        record = SmsRecord.objects.create(mobile=mobile, template_code=template_code, params=params)
        return str(record.pk)
