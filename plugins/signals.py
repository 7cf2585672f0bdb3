"""Every signal that crosses an app boundary, declared in one place.

Core apps send these and never import a plugin; plugins receive them (connecting in their
``AppConfig.ready()``) and do their work through their own services. Plugins declare the
signals they send here too, so a receiver never imports the sender.

Each entry documents the sender and the keyword arguments. Receivers must accept ``**kwargs``
so new arguments can be added without breaking them.
"""

from django.dispatch import Signal

# --- Core ---------------------------------------------------------------------------------------

#: Sent by ``forms/`` after a repair, complaint or enquiry form submission is stored.
#: sender: the form page's model class.
#: page: the form page; submission: the stored submission; request: the HTTP request;
#: kind: "repair" | "complaint" | "enquiry"; unit: the chosen estates.Unit or None.
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
