"""Background work of the outbox; thin wrappers around services."""

from django_tasks import task

from . import services


@task()
def deliver_messages(message_ids):
    """Deliver these just-written messages (enqueued by send() once its transaction commits,
    on NOTIFICATIONS["DELIVERY_TASK_BACKEND"])."""
    return services.deliver(message_ids)


@task(backend="background")
def deliver_pending(limit=500):
    """Deliver what is due: retries and SMS held over quiet hours."""
    return services.deliver_pending(limit)
