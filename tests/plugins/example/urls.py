from django.urls import path

from . import views

# Mounted by the framework under /example/, namespace "example" (plugins.registry).
urlpatterns = [path("", views.index, name="index")]
