from django.urls import path

from . import views

urlpatterns = [
    path("owner/sign-in/", views.sign_in, name="owners_sign_in"),
    path("owner/sign-in/code/", views.enter_code, name="owners_code"),
    path("owner/sign-out/", views.sign_out, name="owners_sign_out"),
    path("owner/", views.home, name="owners_home"),
]
