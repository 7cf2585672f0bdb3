"""Groups, least permissions and the 客服+法务审核 workflow (ARCHITECTURE.md decision 2).

Runs once; an administrator's later edits to these groups or the workflow are never undone.
"""

from django.db import migrations

from accounts.migrating import ensure_permissions as ensure_app_permissions
from accounts.migrating import perm

EDITORS, CS_REVIEWERS, LEGAL_REVIEWERS = "内容编辑", "客服审核", "法务审核"
WORKFLOW_NAME = "客服+法务审核"


def ensure_permissions(apps):
    ensure_app_permissions(apps, ("wagtailadmin", "wagtailcore", "wagtailimages", "wagtaildocs", "home"))


def create_review(apps, schema_editor):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    ContentType = apps.get_model("contenttypes", "ContentType")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    Collection = apps.get_model("wagtailcore", "Collection")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    MarketingReviewTask = apps.get_model("home", "MarketingReviewTask")
    HomePage = apps.get_model("home", "HomePage")

    access_admin = perm(apps, "wagtailadmin", "access_admin")
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    cs, _ = Group.objects.get_or_create(name=CS_REVIEWERS)
    legal, _ = Group.objects.get_or_create(name=LEGAL_REVIEWERS)

    # Editors write drafts and submit them; they cannot publish.
    editors.permissions.add(
        access_admin,
        *[perm(apps, "home", f"{verb}_{model}") for verb in ("add", "change", "view")
          for model in ("faq", "adversefactor")],
    )
    # Reviewers read what they review; approving is granted by the workflow tasks themselves.
    for group in (cs, legal):
        group.permissions.add(
            access_admin,
            perm(apps, "home", "view_faq"),
            perm(apps, "home", "view_adversefactor"),
        )

    home = HomePage.objects.order_by("path").first()
    if home is not None:
        for codename in ("add_page", "change_page"):
            GroupPagePermission.objects.get_or_create(
                group=editors, page_id=home.pk, permission=perm(apps, "wagtailcore", codename)
            )
    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for app_label, model in (("wagtailimages", "image"), ("wagtaildocs", "document")):
            for verb in ("add", "change", "choose"):
                GroupCollectionPermission.objects.get_or_create(
                    group=editors, collection=root_collection,
                    permission=perm(apps, app_label, f"{verb}_{model}"),
                )
            for group in (cs, legal):
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection,
                    permission=perm(apps, app_label, f"choose_{model}"),
                )

    workflow, created = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    if created:
        task_type = ContentType.objects.get(app_label="home", model="marketingreviewtask")
        for order, (name, group) in enumerate(((CS_REVIEWERS, cs), (LEGAL_REVIEWERS, legal))):
            task = MarketingReviewTask.objects.create(name=name, content_type=task_type, active=True)
            task.groups.set([group])
            WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=order)
        if home is not None:
            WorkflowPage.objects.update_or_create(page_id=home.pk, defaults={"workflow": workflow})
        for model in ("faq", "adversefactor"):
            content_type = ContentType.objects.get(app_label="home", model=model)
            WorkflowContentType.objects.update_or_create(
                content_type=content_type, defaults={"workflow": workflow}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0004_review_task"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_review, migrations.RunPython.noop)]
