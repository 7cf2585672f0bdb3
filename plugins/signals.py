"""Every signal that crosses an app boundary, declared in one place.

Core apps send these and never import a plugin; plugins receive them (connecting in their
``AppConfig.ready()``) and do their work through their own services. Plugins declare the
signals they send here too, so a receiver never imports the sender.

Each entry documents the sender and the keyword arguments. Receivers must accept ``**kwargs``
so new arguments can be added without breaking them.
"""

from django.dispatch import Signal

# --- Core ---------------------------------------------------------------------------------------

#: Sent by ``forms/`` after a repair, complaint or enquiry form submission is stored, once the
#: transaction that stored it has committed (``forms.services.submit``), with ``send_robust``:
#: a failing receiver is logged and the owner still gets the thank-you page.
#: sender: the form page's model class (``forms.models.ServiceFormPage``).
#: page: the form page; request: the HTTP request;
#: submission: the stored ``forms.models.ServiceSubmission`` — ``kind``, ``channel``
#: ("web" | "qr": the unit came from a QR token), ``project``, ``unit``, ``name``, ``mobile``
#: (11 digits), ``description``, ``submit_time``, ``form_data`` (the editor's extra fields),
#: ``reference`` and ``photos`` (``SubmissionPhoto`` rows with ``file`` in ``storages["private"]``,
#: ``content_type``, ``width``, ``height``, ``size``; deleting the submission deletes the files,
#: so a receiver that keeps a photo copies it);
#: kind: "repair" | "complaint" | "enquiry"; unit: the chosen estates.Unit, or None (an enquiry
#: may have no unit).
#: A receiver may return ``{"reference": "BX20261123-0007", "label": "工单号", "url": "/…"}``:
#: the thank-you page then shows that reference (and local link) instead of the submission id.
form_submitted = Signal()

#: Sent by ``estates.services.record_handover`` when a unit is handed over to its owner,
#: after the transaction that recorded it has committed.
#: sender: estates.Unit. unit: the Unit; handover_date: a date; user: the acting staff user
#: or None (system); reason: the audit reason.
unit_handed_over = Signal()

#: Sent by the estates import after a confirmed import has committed.
#: sender: estates.ImportJob. job: the ImportJob; counts: {"units" | "owners" | "contractors":
#: {"new": n, "updated": n, "unchanged": n}} for the sheets in the file; user: the importing
#: staff user.
estates_imported = Signal()

# --- Plugins ------------------------------------------------------------------------------------

#: Sent by the interviews plugin (``plugins.interviews.services.raise_finding``) when a staff
#: member raises a finding heard in an owner interview as a case ("一键转工单"): inside the
#: transaction that records the raise, with the finding's row locked, and never for a finding
#: already raised (a double click waits for the first and then finds it raised).
#: sender: ``plugins.interviews.models.Finding``.
#: finding: the Finding (``pk``, ``kind`` "repair" | "complaint" | "enquiry", ``text``,
#: ``category_hint``, free text or ""); interview: its Interview (``project``, ``unit`` or None,
#: ``owner`` an estates.Owner or None, ``interviewer`` the staff user who held it, ``date``,
#: ``method`` "visit" | "phone" | "walk_in" | "other", ``topics``);
#: user: the staff user raising it.
#: A receiver that opens a case returns ``{"number": "BX20261123-0007", "url": "/admin/…"}``;
#: one that refuses raises ``django.core.exceptions.ValidationError`` with a message for the
#: user, which rolls the whole raise back. Receivers must be idempotent for each finding and look
#: for the case they opened before (the case desk keeps ``source = "interviews.finding:<pk>"``).
#: With no receiver connected (the case desk not enabled) findings cannot be raised.
interview_finding_raised = Signal()
