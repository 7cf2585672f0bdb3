"""Replace Wagtail's placeholder page with the portal's HomePage and point the site at it."""

from django.db import migrations


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("home.HomePage")
    Locale = apps.get_model("wagtailcore.Locale")

    if HomePage.objects.exists():
        return
    # Wagtail's initial migration makes a "Welcome" page at path 00010001.
    Page.objects.filter(depth=2, url_path="/home/", content_type__model="page").delete()

    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="home")
    locale = Locale.objects.order_by("pk").first()
    homepage = HomePage.objects.create(
        title="安居业主服务",
        draft_title="安居业主服务",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        hotline="400-800-1234",
    )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "root_page": homepage, "site_name": "安居"},
    )
    if not Site.objects.filter(is_default_site=True).exists():
        Site.objects.create(hostname="localhost", root_page=homepage, is_default_site=True)


class Migration(migrations.Migration):
    run_before = []
    dependencies = [
        ("home", "0001_initial"),
        ("wagtailcore", "0094_alter_page_locale"),
    ]
    operations = [migrations.RunPython(create_homepage, migrations.RunPython.noop)]
