"""Public pages of the case desk, mounted under /cases/ (namespace "cases"): the owner's case
page and actions, following a case without signing in, and the contractor's work link."""

from django.urls import path

from . import contractor_views, owner_views

urlpatterns = [
    path("follow/", owner_views.follow, name="follow"),
    path("follow/<str:token>/", owner_views.follow_link, name="follow_link"),
    path("c/<str:number>/", owner_views.case_page, name="owner_case"),
    path("c/<str:number>/message/", owner_views.message, name="owner_message"),
    path("c/<str:number>/sign-off/", owner_views.sign_off, name="owner_sign_off"),
    path("c/<str:number>/rate/", owner_views.rate, name="owner_rate"),
    path("c/<str:number>/files/<int:attachment>/", owner_views.case_file, name="owner_file"),
    path("w/<str:token>/", contractor_views.work_page, name="work"),
    path("w/<str:token>/call/", contractor_views.call, name="work_call"),
    path("w/<str:token>/contacted/", contractor_views.contacted, name="work_contacted"),
    path("w/<str:token>/on-site/", contractor_views.arrived, name="work_on_site"),
    path("w/<str:token>/done/", contractor_views.done, name="work_done"),
    path("w/<str:token>/files/<int:attachment>/", contractor_views.work_file, name="work_file"),
]
