"""interviews/0002: the shipped targets row and the case desk's roles with their interview
permissions, created once; running it again restores nothing an administrator changed."""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group, Permission

from plugins.interviews.models import InterviewTargets

migration = importlib.import_module("plugins.interviews.migrations.0002_defaults_and_roles")


def interview_perms(name):
    return set(Group.objects.get(name=name).permissions.filter(content_type__app_label="interviews")
               .values_list("codename", flat=True))


def test_the_roles_get_their_interview_permissions(db):
    assert interview_perms("呼叫中心坐席") == interview_perms("派单员") == {"add_interview"}
    assert interview_perms("质量经理") == {"add_interview", "view_interview"}
    assert interview_perms("客服经理") == {"add_interview", "view_interview", "change_interview",
                                        "change_interviewtargets"}
    assert interview_perms("工程联络人") == set()  # works on site, interviews nobody


def test_running_it_again_restores_nothing(db):
    agents = Group.objects.get(name="呼叫中心坐席")
    agents.permissions.remove(Permission.objects.get(codename="add_interview"))
    targets = InterviewTargets.load()
    targets.staff_target = 10
    targets.save()
    targets.manager_groups.clear()
    Group.objects.filter(name="派单员").delete()
    migration.create_defaults(apps, None)
    assert interview_perms("呼叫中心坐席") == set()
    assert not Group.objects.filter(name="派单员").exists()
    assert InterviewTargets.objects.count() == 1
    targets = InterviewTargets.load()
    assert (targets.staff_target, targets.manager_groups.count()) == (10, 0)


def test_on_a_database_without_the_rows_it_creates_the_defaults(db):
    InterviewTargets.objects.all().delete()
    for name in ("呼叫中心坐席", "客服经理"):
        Group.objects.get(name=name).permissions.remove(
            *Permission.objects.filter(content_type__app_label="interviews"))
    migration.create_defaults(apps, None)
    targets = InterviewTargets.objects.get()
    assert (targets.staff_target, targets.manager_target) == (12, 6)
    assert [group.name for group in targets.manager_groups.all()] == ["客服经理"]
    assert interview_perms("呼叫中心坐席") == {"add_interview"}
