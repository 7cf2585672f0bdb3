"""The case desk's five roles as groups with least permission (ARCHITECTURE.md decision 2;
ISSUE: call-centre agent, dispatcher, engineering liaison, quality manager, customer-service
manager), and the review of standard replies (统一说辞) by the portal's 客服+法务审核 workflow.

Groups say *what* a person may do; estates.StaffProfile says *where* (their projects). Runs
once: an administrator's later edits to these groups are never undone, and a group they delete
is not brought back by a later migrate.
"""

from django.db import migrations

from accounts.migrating import ensure_permissions, perm

AGENT, DISPATCHER, LIAISON, QUALITY, MANAGER = "呼叫中心坐席", "派单员", "工程联络人", "质量经理", "客服经理"

# Reading the estates a case refers to (choosers need a permission on the model).
ESTATES_VIEW = [("estates", f"view_{model}") for model in ("project", "building", "unit", "owner", "contractor",
                                                          "department")]
CASES_VIEW = [("cases", "view_case"), ("cases", "view_category"), ("cases", "view_standardreply"),
              ("cases", "view_caseattachment")]

ROLES = {
    # Takes calls: registers cases, notes and contacts, calls owners back.
    AGENT: ESTATES_VIEW + CASES_VIEW + [
        ("cases", "add_case"), ("cases", "handle_case"), ("cases", "callback_case"), ("cases", "add_caseattachment"),
    ],
    # Routes cases to departments, contractors and people.
    DISPATCHER: ESTATES_VIEW + CASES_VIEW + [
        ("cases", "add_case"), ("cases", "handle_case"), ("cases", "dispatch_case"), ("cases", "add_caseattachment"),
        ("cases", "view_routingrule"),
    ],
    # Works with the contractors on site: start, pause, on site, complete.
    LIAISON: ESTATES_VIEW + CASES_VIEW + [
        ("cases", "handle_case"), ("cases", "add_caseattachment"),
    ],
    # Owns the one-chance rule: escalations, re-checks, third parties and their cost, closing.
    QUALITY: ESTATES_VIEW + CASES_VIEW + [
        ("cases", "handle_case"), ("cases", "callback_case"), ("cases", "close_case"), ("cases", "manage_case"),
        ("cases", "add_caseattachment"), ("cases", "view_depositcharge"), ("cases", "add_depositcharge"),
        ("cases", "view_compensation"), ("cases", "add_compensation"),
    ],
    # Runs the department: every verb, approves compensation, edits the rules.
    MANAGER: ESTATES_VIEW + CASES_VIEW + [
        ("cases", codename) for codename in (
            "add_case", "handle_case", "dispatch_case", "callback_case", "close_case", "manage_case",
            "approve_compensation", "add_caseattachment",
            "view_compensation", "add_compensation", "view_depositcharge", "add_depositcharge",
            "add_category", "change_category",
            "view_routingrule", "add_routingrule", "change_routingrule", "delete_routingrule",
            "add_standardreply", "change_standardreply",
            "view_slapolicy", "add_slapolicy", "change_slapolicy",
            "view_workcalendar", "add_workcalendar", "change_workcalendar",
            "view_workcalendarday", "add_workcalendarday", "change_workcalendarday",
        )
    ],
}


def create_roles(apps, schema_editor):
    ensure_permissions(apps, ("wagtailadmin", "estates", "cases"))
    Group = apps.get_model("auth", "Group")
    access_admin = perm(apps, "wagtailadmin", "access_admin")
    # Only on a database that has none of the roles yet: a group an administrator deleted or
    # renamed is not brought back.
    if not Group.objects.filter(name__in=ROLES).exists():
        for name, permissions in ROLES.items():
            group = Group.objects.create(name=name)
            group.permissions.add(access_admin, *(perm(apps, *pair) for pair in permissions))

    # Standard replies go live through the same review as the portal's approved answers.
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    ContentType = apps.get_model("contenttypes", "ContentType")
    workflow = Workflow.objects.filter(name="客服+法务审核").first()
    if workflow is not None:
        content_type = ContentType.objects.get(app_label="cases", model="standardreply")
        WorkflowContentType.objects.get_or_create(content_type=content_type, defaults={"workflow": workflow})


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_money_files_routing"),
        ("home", "0005_review_workflow"),
        ("estates", "0003_importjob"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
