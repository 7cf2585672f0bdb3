"""Receivers, connected in NotificationsConfig.ready()."""

from django.contrib.auth.signals import user_logged_in

from . import services


def prime_unread_count(sender, user, **kwargs):
    """Count the inbox at sign-in, so admin pages read the menu's number from the cache."""
    services.unread_count(user)


def connect():
    user_logged_in.connect(prime_unread_count, dispatch_uid="notifications-prime-unread")
