"""The shipped yearly targets (DOMAIN.md step 7: 12 a year, managers 6) and who may log
interviews (ARCHITECTURE.md decision 2).

The targets row is created only when there is none, with 客服经理 as the manager group. The
case desk's roles (plugins/cases/migrations/0005_roles, which created the groups) get their
interview permissions once: call-centre agents, dispatchers, quality managers and
customer-service managers log their own interviews (add); the two managers see everyone's in
their projects (view), the customer-service manager also corrects them (change) and edits the
targets. A group that does not exist is not created (without the case desk there are no such
groups; grant the permissions in 设置 → 用户组). It runs once — the targets row is its mark —
so running it again never restores what an administrator removed or changed.

No migration dependency on the case desk: it is optional, and a dependency would break a
database that enables it later. On a new database its migrations run first (apps migrate in
label order, "cases" before "interviews"), so its groups exist here.
"""

from django.db import migrations

from accounts.migrating import ensure_permissions, perm

AGENT, DISPATCHER, QUALITY, MANAGER = "呼叫中心坐席", "派单员", "质量经理", "客服经理"

ROLES = {
    AGENT: ["add_interview"],
    DISPATCHER: ["add_interview"],
    QUALITY: ["add_interview", "view_interview"],
    MANAGER: ["add_interview", "view_interview", "change_interview", "change_interviewtargets"],
}


def create_defaults(apps, schema_editor):
    ensure_permissions(apps, ("interviews",))
    Group = apps.get_model("auth", "Group")
    InterviewTargets = apps.get_model("interviews", "InterviewTargets")
    # The targets row marks that this ran: once it exists, nothing here runs again.
    if InterviewTargets.objects.exists():
        return
    targets = InterviewTargets.objects.create(staff_target=12, manager_target=6)
    for name, codenames in ROLES.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        group.permissions.add(*(perm(apps, "interviews", codename) for codename in codenames))
        if name == MANAGER:
            targets.manager_groups.add(group)


class Migration(migrations.Migration):
    dependencies = [
        ("interviews", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
