"""django-simple-history rows for bulk writes: one historical row per created or updated row,
with the importing user and the import's reason (``history_change_reason``).

simple-history's ``bulk_create_with_history`` does the same through Django's bulk_create and
looks the user up once per object; these rows go through ``bulk`` like the records themselves.
Models that keep many-to-many fields in their history (Contractor: trades, projects) get the
snapshot of their through rows that simple-history writes on save().
"""

from . import bulk

CREATED, UPDATED = "+", "~"


def write_history(model, rows, *, history_type, user_id, reason, when):
    """Insert the historical rows of ``rows`` (complete rows of ``model``, already written)."""
    if not rows:
        return []
    historical = model.history.model
    tracked = [field.attname for field in historical.tracked_fields]
    audit = {
        "history_date": when,
        "history_type": history_type,
        "history_user_id": user_id,
        "history_change_reason": reason,
    }
    history = [{**{name: row[name] for name in tracked}, **audit} for row in rows]
    for extra in historical._meta.concrete_fields:  # e.g. the history_id primary key
        if extra.attname not in history[0]:
            for entry in history:
                entry[extra.attname] = None
    bulk.create(historical, history)
    _write_m2m_snapshots(historical, history)
    return history


def _write_m2m_snapshots(historical, history):
    fields = getattr(historical, "_history_m2m_fields", ())
    if not fields:
        return
    pk = historical._meta.pk.attname
    object_ids = [entry["id"] for entry in history]
    for field in fields:
        through = field.remote_field.through
        m2m_history = getattr(historical, field.name).model
        own, other = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
        links = {}
        found = through.objects.filter(**{f"{own}__in": object_ids}).values_list("id", own, other)
        for link_id, own_id, other_id in found:
            links.setdefault(own_id, []).append((link_id, other_id))
        m2m_pk = m2m_history._meta.pk.attname
        snapshot = [
            {"id": link_id, own: entry["id"], other: other_id, "history_id": entry[pk], m2m_pk: None}
            for entry in history
            for link_id, other_id in links.get(entry["id"], ())
        ]
        bulk.create(m2m_history, snapshot)
