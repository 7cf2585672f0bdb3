"""Builders for the portal's page tree in tests: the home page from migrations plus the index
pages, a project page and live content. Each returns the objects it made."""

import datetime
from dataclasses import dataclass, field

from wagtail.models import Page

from home.models import (
    FAQ,
    AdverseFactor,
    FAQIndexPage,
    HomePage,
    OpenDayIndexPage,
    OpenDayPage,
    OpenDaySlot,
    ProgressBulletinIndexPage,
    ProgressBulletinPage,
    ProjectPage,
)
from tests.factories import BuildingFactory, ProjectFactory


@dataclass
class Portal:
    home: HomePage
    bulletin_index: ProgressBulletinIndexPage
    openday_index: OpenDayIndexPage
    faq_index: FAQIndexPage
    projects: list = field(default_factory=list)


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def ensure_home():
    """The tree Wagtail's and home's data migrations make (locale, root, home page, default site,
    root collection). A transactional test's flush removes it; tests that commit call this."""
    from django.conf import settings
    from wagtail.models import Collection, Locale, Site

    locale, _ = Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    root = Page.objects.filter(depth=1).first() or Page.add_root(title="Root", slug="root", locale=locale)
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(instance=HomePage(title="安居业主服务", slug="home", locale=locale, hotline="400-800-1234"))
        Site.objects.update_or_create(
            is_default_site=True, defaults={"hostname": "localhost", "root_page": home, "site_name": "安居"}
        )
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    return home


def build_portal():
    home = ensure_home()
    bulletin_index = home.add_child(instance=ProgressBulletinIndexPage(title="工程进展", slug="bulletins"))
    openday_index = home.add_child(instance=OpenDayIndexPage(title="工地开放日", slug="open-days"))
    faq_index = home.add_child(instance=FAQIndexPage(title="常见问题", slug="faq"))
    return Portal(home, bulletin_index, openday_index, faq_index)


def add_project_page(portal, project=None, **kwargs):
    project = project or ProjectFactory()
    page = portal.home.add_child(
        instance=ProjectPage(title=project.name, slug=project.code.lower(), project=project, **kwargs)
    )
    portal.projects.append(page)
    return page


def add_bulletin(portal, project, title="2026年10月工程进展", issue_date=None, **kwargs):
    building = kwargs.pop("building", None) or BuildingFactory(project=project)
    page = ProgressBulletinPage(
        title=title,
        project=project,
        issue_date=issue_date or datetime.date(2026, 10, 31),
        period="2026年10月",
        stage="structure",
        summary=kwargs.pop("summary", "主体结构施工顺利推进"),
        **kwargs,
    )
    page.progress.add(page.progress.model(building=building, percent=65, note="施工至18层"))
    portal.bulletin_index.add_child(instance=page)
    return page


def add_open_day(portal, project, slots=((datetime.date(2026, 12, 12), 20, 3),), title="工地开放日", **kwargs):
    page = OpenDayPage(
        title=title, project=project, kind="open_day", place="售楼处门口", what_to_bring="身份证、购房合同",
        **kwargs,
    )
    for date, capacity, max_party in slots:
        page.slots.add(
            OpenDaySlot(date=date, start=datetime.time(9, 30), end=datetime.time(11, 30),
                        capacity=capacity, max_party_size=max_party)
        )
    portal.openday_index.add_child(instance=page)
    return page


def add_faq(question, answer, category="repairs", live=True, projects=()):
    faq = FAQ(question=question, answer=answer, category=category, live=live)
    faq.save()
    if projects:
        faq.projects.set(projects)
    return faq


def add_adverse_factor(project, title="城市快速路", category="noise", live=True, **kwargs):
    return AdverseFactor.objects.create(
        project=project, title=title, category=category, live=live,
        description=kwargs.pop("description", "项目北侧约 120 米为城市快速路，车流噪声较大。"),
        distance_m=kwargs.pop("distance_m", 120), **kwargs,
    )


def root_page():
    return Page.objects.get(depth=1)
