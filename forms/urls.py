"""Mounted by config/urls.py with ``path("", include("forms.urls"))`` before Wagtail's pages."""

from django.urls import path

from . import views

app_name = "portal_forms"
urlpatterns = [
    path("portal-forms/photos/<int:pk>/", views.submission_photo, name="photo"),
]
