from django.urls import path, re_path

from . import views

# Mounted at "" before Wagtail's catch-all: keep the "opendays/" prefix free of page slugs.
urlpatterns = [
    path("opendays/slots/<int:slot_id>/register/", views.register_view, name="openday_register"),
    path("opendays/cancel/", views.cancel_view, name="openday_cancel"),
    re_path(r"^opendays/r/(?P<code>[A-Za-z0-9]{4,12})/$", views.done_view, name="openday_done"),
]
