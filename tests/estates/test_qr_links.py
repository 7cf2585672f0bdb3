"""QR codes (ARCHITECTURE.md decision 15): short links per unit and building, the public
``/q/<token>`` redirect into the repair form with channel "qr", and the staff downloads (PNG,
SVG, the building's PDF sheet with Chinese text), each limited to the staff member's projects."""

import io
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image

from estates import links
from estates.models import ShortLink
from forms.models import ServiceSubmission
from tests import factories
from tests.e2e.conftest import in_ci
from tests.forms.conftest import add_form_page, estate, form_data, other_estate, portal  # noqa: F401 (fixtures)
from tests.portal import add_project_page

pytestmark = pytest.mark.django_db

PDFTOTEXT = Path("/usr/bin/pdftotext")
PDFFONTS = Path("/usr/bin/pdffonts")
APT_INSTALL = "apt-get install -y --no-install-recommends poppler-utils fonts-wqy-microhei"
NOT_FOUND = "二维码无效或已停用"


@pytest.fixture
def home_form(portal, estate):
    return add_form_page(portal.home, slug="repair")


@pytest.fixture
def project_form(portal, estate):
    return add_form_page(add_project_page(portal, estate.project), slug="baoxiu")


def follow_url(link):
    return reverse("short_link", args=[link.token])


def query(response):
    return parse_qs(urlsplit(response["Location"]).query)


def qr_url(kind, obj, fmt):
    return reverse("estates_qr", kwargs={"kind": kind, "pk": obj.pk, "fmt": fmt})


def sheet_url(building):
    return reverse("estates_qr_sheet", kwargs={"pk": building.pk})


# --- Links ----------------------------------------------------------------------------------------


def test_a_link_is_created_once_and_stays_the_same(estate):
    first = links.link_for(estate.unit)
    assert links.link_for(estate.unit).pk == first.pk
    assert links.TOKEN_RE.match(first.token)
    assert (first.unit, first.building, first.revoked_at) == (estate.unit, None, None)
    building = links.link_for(estate.building)
    assert building.building == estate.building and building.token != first.token
    assert ShortLink.objects.count() == 2


def test_tokens_are_unique_and_use_the_unambiguous_alphabet(estate):
    units = [estate.unit, estate.other_unit, *factories.UnitFactory.create_batch(40, building=estate.building)]
    tokens = [link.token for link in links.links_for(units).values()]
    assert len(set(tokens)) == len(units)
    assert not set("".join(tokens)) & set("01ilo")


def test_revoking_retires_the_token_and_the_next_link_is_new(estate):
    old = links.link_for(estate.unit)
    assert links.revoke(estate.unit) == 1
    old.refresh_from_db()
    assert old.revoked_at is not None
    new = links.link_for(estate.unit)
    assert new.token != old.token and new.revoked_at is None
    assert links.link_for(estate.unit).pk == new.pk
    assert links.current_link(old.token) is None
    assert links.current_link(new.token.upper()) == new  # typed from the poster in capitals


def test_links_for_keeps_existing_links_and_adds_the_missing(estate):
    existing = links.link_for(estate.unit)
    found = links.links_for([estate.unit, estate.other_unit])
    assert found[estate.unit.pk].pk == existing.pk
    assert found[estate.other_unit.pk].unit == estate.other_unit
    assert ShortLink.objects.filter(revoked_at=None).count() == 2


def test_a_lost_race_returns_the_winners_link(estate, monkeypatch):
    """Another request created the link between our read and our insert: ours is skipped."""
    winner = ShortLink.objects.create(token=links.new_token(), unit=estate.unit)
    real_current = links._current
    reads = []

    def stale_first_read(field, pks):
        reads.append(pks)
        return real_current(field, pks) if len(reads) > 1 else ShortLink.objects.none()

    monkeypatch.setattr(links, "_current", stale_first_read)
    assert links.link_for(estate.unit).pk == winner.pk
    assert ShortLink.objects.filter(unit=estate.unit).count() == 1


def test_a_link_has_exactly_one_target_and_one_current_link_each(estate):
    for target in ({"unit": estate.unit, "building": estate.building}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ShortLink.objects.create(token=links.new_token(), **target)
    links.link_for(estate.building)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShortLink.objects.create(token=links.new_token(), building=estate.building)


def test_links_are_for_units_or_buildings_only(estate):
    with pytest.raises(TypeError):
        links.link_for(estate.project)
    with pytest.raises(TypeError):
        links.links_for([estate.unit, estate.building])


# --- /q/<token> -----------------------------------------------------------------------------------


def test_a_unit_code_opens_the_repair_form_under_its_project_page(client, home_form, project_form, estate):
    link = links.link_for(estate.unit)
    response = client.get(follow_url(link))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == project_form.url
    assert query(response) == {"unit": [link.token]}
    assert "no-cache" in response["Cache-Control"]


def test_without_a_project_page_form_the_home_pages_form_is_used(client, home_form, estate, portal):
    add_project_page(portal, estate.project)  # a project page, but no form under it
    add_form_page(portal.home, kind="complaint", slug="tousu")  # not a repair form
    response = client.get(follow_url(links.link_for(estate.unit)))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == home_form.url


def test_a_building_code_opens_the_form_with_the_building(client, project_form, estate):
    link = links.link_for(estate.building)
    response = client.get(follow_url(link))
    assert response.status_code == 302
    assert query(response) == {"building": [link.token]}


def test_the_link_accepts_a_trailing_slash_and_capitals(client, home_form, estate):
    link = links.link_for(estate.unit)
    assert client.get(f"/q/{link.token.upper()}/").status_code == 302


def test_following_a_unit_code_shows_the_form_with_the_unit_chosen(client, home_form, estate):
    response = client.get(follow_url(links.link_for(estate.unit)), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{estate.project.pk}" selected>钱塘雅苑</option>' in html
    assert f'<option value="{estate.building.pk}" selected>3号楼</option>' in html
    assert f'<option value="{estate.unit.pk}" selected>3-2-1502</option>' in html
    assert 'name="channel" value="qr"' in html


def test_following_a_building_code_shows_the_form_with_the_building_chosen(client, project_form, estate):
    response = client.get(follow_url(links.link_for(estate.building)), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<input type="hidden" name="project" value="{estate.project.pk}"' in html
    assert f'<option value="{estate.building.pk}" selected>3号楼</option>' in html
    assert " selected>3-2-" not in html  # the owner picks the unit
    assert "3-2-1502" in html  # … among the building's units
    assert 'name="channel" value="qr"' in html


def test_a_submission_from_a_unit_code_has_channel_qr_and_so_has_its_case(
    client, home_form, estate, django_capture_on_commit_callbacks
):
    html = client.get(follow_url(links.link_for(estate.unit)), follow=True).content.decode()
    assert 'name="channel" value="qr"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(home_form.url, form_data(estate, channel="qr"))
    assert response.status_code == 302, response.content.decode()[:500]
    submission = ServiceSubmission.objects.get()
    assert (submission.channel, submission.unit, submission.project) == ("qr", estate.unit, estate.project)
    if not apps.is_installed("plugins.cases"):
        pytest.skip("the case desk plugin is not enabled")
    from plugins.cases.models import Case

    case = Case.objects.get(source=f"portal_forms.submission:{submission.pk}")
    assert (case.channel, case.unit) == ("qr", estate.unit)


def test_a_submission_from_a_building_code_has_channel_qr(client, project_form, estate, django_capture_on_commit_callbacks):
    client.get(follow_url(links.link_for(estate.building)), follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(project_form.url, form_data(estate, channel="qr"))
    assert response.status_code == 302
    assert ServiceSubmission.objects.get().channel == "qr"


@pytest.mark.parametrize(
    "token",
    ["23456789ab", "abc", "a" * 200, "<script>alert(1)</script>", "0000000000", "%E4%BA%8C", "12345"],
)
def test_unknown_or_garbage_tokens_get_a_chinese_404(client, home_form, estate, token):
    links.link_for(estate.unit)
    response = client.get(f"/q/{token}")
    assert response.status_code == 404
    assert "Location" not in response
    assert NOT_FOUND in response.content.decode()


def test_a_revoked_token_gets_a_chinese_404_and_no_longer_fills_the_form(client, home_form, estate):
    old = links.link_for(estate.unit)
    links.revoke(estate.unit)
    response = client.get(follow_url(old))
    assert response.status_code == 404 and NOT_FOUND in response.content.decode()
    html = client.get(home_form.url, {"unit": old.token}).content.decode()
    assert " selected>3-2-1502" not in html and 'name="channel" value="qr"' not in html
    assert client.get(follow_url(links.link_for(estate.unit))).status_code == 302


def test_a_project_without_a_live_repair_form_says_to_call_customer_service(client, portal, estate):
    draft = add_form_page(add_project_page(portal, estate.project), slug="baoxiu")
    draft.unpublish()
    add_form_page(portal.home, kind="enquiry", slug="zixun")
    response = client.get(follow_url(links.link_for(estate.unit)))
    assert response.status_code == 404
    html = response.content.decode()
    assert "暂未开通在线报修" in html and "400-800-1234" in html  # the project's hotline
    assert "Location" not in response


def test_a_building_code_of_another_project_is_ignored_on_a_project_page(client, project_form, other_estate):
    link = links.link_for(other_estate.building)
    html = client.get(project_form.url, {"building": link.token}).content.decode()
    assert " selected>3号楼" not in html and 'name="channel" value="qr"' not in html
    assert "甬江花园" not in html


def test_numeric_building_prefill_still_works(client, project_form, estate):
    html = client.get(project_form.url, {"building": estate.building.pk}).content.decode()
    assert f'<option value="{estate.building.pk}" selected>3号楼</option>' in html
    assert 'name="channel" value="qr"' not in html


# --- Staff downloads ------------------------------------------------------------------------------


def test_unit_code_as_png(admin_client, estate):
    response = admin_client.get(qr_url("unit", estate.unit, "png"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    image = Image.open(io.BytesIO(response.content))
    image.verify()
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 250
    assert ShortLink.objects.filter(unit=estate.unit, revoked_at=None).count() == 1


@pytest.mark.parametrize("kind", ["unit", "building"])
def test_code_as_svg(admin_client, estate, kind):
    response = admin_client.get(qr_url(kind, getattr(estate, kind), "svg"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_the_same_code_is_served_twice(admin_client, estate):
    first = admin_client.get(qr_url("unit", estate.unit, "svg")).content
    assert admin_client.get(qr_url("unit", estate.unit, "svg")).content == first


def pdf_text(pdf, tmp_path):
    """The text pdftotext reads from ``pdf``; skipped locally without poppler-utils, failed on CI."""
    if not (PDFTOTEXT.is_file() and PDFFONTS.is_file()):
        message = f"{PDFTOTEXT} is missing: install it with `{APT_INSTALL}` (checks the PDF's Chinese text)"
        if in_ci():
            pytest.fail(message + "; CI must check the glyphs", pytrace=False)
        pytest.skip(message)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run([str(PDFFONTS), str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts, fonts  # the glyphs come from the CJK font, not boxes
    return subprocess.run([str(PDFTOTEXT), str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_building_sheet_is_a_pdf_with_chinese_text(admin_client, estate, tmp_path):
    response = admin_client.get(sheet_url(estate.building))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    for expected in ("钱塘雅苑", "3号楼", "3-2-1502", "3-2-902", "扫码报修", "楼栋公共区域"):
        assert expected in text, expected
    assert "5号楼" not in text and "1-101" not in text  # the other building's unit
    for unit in (estate.unit, estate.building):
        assert links.short_url(links.link_for(unit)) in text
    assert links.short_url(links.link_for(estate.unit)).startswith("http://testserver/q/")


def test_the_sheet_needs_no_internet(admin_client, estate, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the PDF tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert admin_client.get(sheet_url(estate.building)).status_code == 200


@pytest.mark.parametrize("size", [2, 30])
def test_sheet_queries_do_not_grow_with_the_units(admin_client, size, django_assert_max_num_queries):
    building = factories.BuildingFactory()
    factories.UnitFactory.create_batch(size, building=building)
    for _ in ("links created", "links read"):
        with django_assert_max_num_queries(11):
            response = admin_client.get(sheet_url(building))
        assert response.status_code == 200
    assert ShortLink.objects.filter(unit__building=building).count() == size


@pytest.fixture
def a_staff(estate, make_staff):
    return make_staff("estates.view_unit", "estates.view_building", projects=[estate.project])


def test_scoped_staff_get_their_projects_codes_and_404_for_another(client, a_staff, estate, other_estate):
    client.force_login(a_staff)
    own = [qr_url("unit", estate.unit, "png"), qr_url("building", estate.building, "svg"), sheet_url(estate.building)]
    other = [
        qr_url("unit", other_estate.unit, "png"),
        qr_url("unit", other_estate.unit, "svg"),
        qr_url("building", other_estate.building, "png"),
        qr_url("building", other_estate.building, "svg"),
        sheet_url(other_estate.building),
    ]
    for url in own:
        assert client.get(url).status_code == 200, url
    for url in other:
        assert client.get(url).status_code == 404, url
    assert not ShortLink.objects.filter(unit__project=other_estate.project).exists()
    assert not ShortLink.objects.filter(building__project=other_estate.project).exists()


def test_staff_without_the_view_permission_are_refused(client, make_staff, estate):
    staff = make_staff("estates.view_building", projects=[estate.project])
    client.force_login(staff)
    for url in (qr_url("unit", estate.unit, "png"), sheet_url(estate.building)):  # the sheet lists units
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url  # Wagtail's "no permission"
    assert not ShortLink.objects.exists()
    assert client.get(qr_url("building", estate.building, "png")).status_code == 200


def test_anonymous_visitors_are_sent_to_the_admin_login(client, estate):
    response = client.get(sheet_url(estate.building))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not ShortLink.objects.exists()


@pytest.mark.parametrize("path", ["/admin/estates/qr/unit/99999999.png", "/admin/estates/qr/unit/1" + "9" * 30 + ".png"])
def test_unknown_or_huge_ids_are_404(admin_client, estate, path):
    assert admin_client.get(path, follow=True).status_code == 404


def test_building_and_unit_screens_link_to_the_downloads(admin_client, estate):
    listing = admin_client.get("/admin/snippets/estates/building/").content.decode()
    assert sheet_url(estate.building) in listing
    inspect = admin_client.get(f"/admin/snippets/estates/unit/inspect/{estate.unit.pk}/").content.decode()
    assert qr_url("unit", estate.unit, "png") in inspect and qr_url("unit", estate.unit, "svg") in inspect
    units = admin_client.get("/admin/snippets/estates/unit/").content.decode()
    assert qr_url("unit", estate.unit, "png") in units


def test_ci_installs_what_the_pdf_checks_need():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    loop = next(line for line in ci.splitlines() if line.startswith("for pkg in"))
    for package in ("poppler-utils", "fonts-wqy-microhei", "libpango-1.0-0", "libpangoft2-1.0-0"):
        assert package in loop.removesuffix("; do").split(), package
