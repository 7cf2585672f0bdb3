"""The page editor: where service pages may go, the fixed fields an editor cannot shadow."""

import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from forms.forms import RESERVED_NAMES, ServiceForm
from forms.models import ServiceFormPage
from home.models import HomePage, ProjectPage
from tests.forms.conftest import CONSENT, form_data

pytestmark = pytest.mark.django_db


def test_parent_page_types():
    assert ServiceFormPage.parent_page_types == ["home.HomePage", "home.ProjectPage"]
    assert ServiceFormPage.allowed_subpage_models() == []


def test_can_be_added_under_a_project_page():
    assert set(ServiceFormPage.allowed_parent_page_models()) == {HomePage, ProjectPage}


def test_can_be_added_under_the_home_page(portal):
    assert ServiceFormPage.can_create_at(portal.home)


def page_post(label, **overrides):
    fields = [{"label": label, "field_type": "singleline", "required": "", "help_text": "", "choices": "", "default_value": ""}]
    data = {
        "title": "在线报修",
        "slug": "repair",
        "kind": "repair",
        "intro": rich_text(""),
        "consent_text": rich_text(CONSENT),
        "thank_you_text": rich_text(""),
        "form_fields": inline_formset(fields),
        "action-publish": "publish",
    }
    data.update(overrides)
    return nested_form_data(data)


def test_editor_creates_a_page_with_an_extra_field(admin_client, portal):
    url = reverse("wagtailadmin_pages:add", args=("portal_forms", "serviceformpage", portal.home.pk))
    response = admin_client.post(url, page_post("期望上门时间"))
    assert response.status_code == 302, response.content.decode()[:3000]
    page = ServiceFormPage.objects.get()
    assert page.live and [f.label for f in page.form_fields.all()] == ["期望上门时间"]
    edit = admin_client.get(reverse("wagtailadmin_pages:edit", args=(page.pk,)))
    assert edit.status_code == 200


@pytest.mark.parametrize("label", ["Name", "mobile", "Photos", "unit", "Description"])
def test_editor_cannot_shadow_a_fixed_field(admin_client, portal, label):
    url = reverse("wagtailadmin_pages:add", args=("portal_forms", "serviceformpage", portal.home.pk))
    response = admin_client.post(url, page_post(label))
    assert response.status_code == 200
    assert "与表单的固定字段重名" in response.content.decode()
    assert not ServiceFormPage.objects.exists()


def test_consent_text_is_required(admin_client, portal):
    url = reverse("wagtailadmin_pages:add", args=("portal_forms", "serviceformpage", portal.home.pk))
    response = admin_client.post(url, page_post("备注", consent_text=rich_text("")))
    assert response.status_code == 200
    assert "请填写个人信息授权说明" in response.content.decode()
    assert not ServiceFormPage.objects.exists()


def test_reserved_names_cover_every_fixed_field():
    assert set(ServiceForm.base_fields) <= RESERVED_NAMES


def test_forms_index_lists_the_page(admin_client, repair_page):
    response = admin_client.get(reverse("wagtailforms:index"))
    assert response.status_code == 200
    assert "在线报修" in response.content.decode()


@pytest.mark.parametrize("mode, text", [("form", "提交报修"), ("landing", "报修已提交")])
def test_preview_modes(admin_client, repair_page, mode, text):
    response = admin_client.get(reverse("wagtailadmin_pages:view_draft", args=(repair_page.pk,)), {"mode": mode})
    assert response.status_code == 200
    assert text in response.content.decode()


def test_submission_panel_counts_submissions(admin_client, client, repair_page, estate):
    client.post(repair_page.url, form_data(estate))
    edit = admin_client.get(reverse("wagtailadmin_pages:edit", args=(repair_page.pk,)))
    assert edit.status_code == 200
