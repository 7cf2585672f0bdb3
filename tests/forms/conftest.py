"""Fixtures for the service forms: a portal with two projects, their buildings and units, a
repair page under the home page and one under a project page; photo makers."""

import io
import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image
from wagtail.models import GroupPagePermission

from forms.models import ServiceFormField, ServiceFormPage
from plugins.signals import form_submitted
from tests import factories
from tests.portal import add_project_page, build_portal

@pytest.fixture(autouse=True)
def forms_alone():
    """forms/ knows nothing of plugins: its tests run with no plugin listening to
    form_submitted (the case desk's own intake is tested in tests/plugins/cases)."""
    saved = form_submitted.receivers[:]
    form_submitted.receivers.clear()
    form_submitted.sender_receivers_cache.clear()
    yield
    form_submitted.receivers[:] = saved
    form_submitted.sender_receivers_cache.clear()


CONSENT = "<p>我们收集您的姓名、手机号和房号，仅用于处理本次报修，保存三年。</p>"


@dataclass
class Estate:
    project: object
    building: object
    other_building: object
    unit: object
    other_unit: object  # same project, other building


@pytest.fixture
def portal(db):
    return build_portal()


def make_estate(code, name):
    project = factories.ProjectFactory(code=code, name=name)
    building = factories.BuildingFactory(project=project, code="3", name="3号楼")
    other_building = factories.BuildingFactory(project=project, code="5", name="5号楼")
    unit = factories.UnitFactory(building=building, entrance="2", number="1502")
    factories.UnitFactory(building=building, entrance="2", number="902")
    other_unit = factories.UnitFactory(building=other_building, entrance="1", number="101")
    return Estate(project, building, other_building, unit, other_unit)


@pytest.fixture
def estate(db):
    return make_estate("HZ01", "钱塘雅苑")


@pytest.fixture
def other_estate(db):
    return make_estate("NB02", "甬江花园")


def add_form_page(parent, kind="repair", slug=None, title="在线报修", fields=()):
    page = ServiceFormPage(
        title=title,
        slug=slug or kind,
        kind=kind,
        intro="<p>紧急漏水请拨打 24 小时热线。</p>",
        consent_text=CONSENT,
        thank_you_text="<p>客服将在 30 分钟内与您联系。</p>",
    )
    for label, field_type, required in fields:
        page.form_fields.add(ServiceFormField(label=label, field_type=field_type, required=required))
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def repair_page(portal, estate):
    return add_form_page(portal.home, fields=[("期望上门时间", "singleline", False)])


@pytest.fixture
def project_repair_page(portal, estate):
    project_page = add_project_page(portal, estate.project)
    return add_form_page(project_page, slug="baoxiu")


def jpeg_bytes(size=(640, 480), color=(180, 120, 60), gps=False, orientation=None):
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if gps:
        exif[ExifTags.Base.Make] = "Apple"
        exif[ExifTags.Base.Model] = "iPhone 15 Pro"
        exif[ExifTags.Base.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (30.0, 15.0, 12.5),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (120.0, 9.0, 30.0),
        }
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def image_bytes(fmt, size=(64, 48), mode="RGB", color=(10, 120, 200)):
    buffer = io.BytesIO()
    image = Image.new(mode, size, color)
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image.save(buffer, fmt)
    return buffer.getvalue()


def upload(name="leak.jpg", content=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content if content is not None else jpeg_bytes(), content_type=content_type)


def form_data(estate, **overrides):
    data = {
        "project": str(estate.project.pk),
        "building": str(estate.building.pk),
        "unit": str(estate.unit.pk),
        "name": "张三",
        "mobile": "+86 138-0013-8000",
        "description": "卫生间天花板漏水，楼上邻居家可能防水没做好。",
        "consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def private_files():
    """Every file under the private storage's forms/ folder (relative names)."""
    root = settings.STORAGES["private"]["OPTIONS"]["location"]
    found = set()
    for folder, _dirs, files in os.walk(os.path.join(root, "forms")):
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return found


@pytest.fixture
def received():
    """The form_submitted signals sent during the test: [(sender, kwargs)]."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append((sender, kwargs))

    form_submitted.connect(receiver, dispatch_uid="tests.forms.received")
    yield calls
    form_submitted.disconnect(dispatch_uid="tests.forms.received")


def staff_for_page(page, projects=(), all_projects=False, page_perms=("change_page",)):
    """A staff member with admin access, the given page permissions on ``page`` (and below) and
    a StaffProfile for ``projects``."""
    user = factories.UserFactory(is_staff=True)
    group = Group.objects.create(name=f"forms-{user.username}")
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for codename in page_perms:
        GroupPagePermission.objects.create(
            group=group,
            page=page,
            permission=Permission.objects.get(content_type__app_label="wagtailcore", codename=codename),
        )
    user.groups.add(group)
    factories.StaffProfileFactory(user=user, all_projects=all_projects, projects=list(projects))
    return user
