"""The admin's import pages end to end through the test client: upload → preview → confirm,
the errors a clerk can make, permissions and project scope, the template, the listing
buttons and the query counts of the pages."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from estates.models import ImportJob, Owner, Ownership, Unit

from .test_import_helpers import (  # noqa: F401 (fixtures)
    CONTRACTOR_HEADERS,
    OWNER_HEADERS,
    UNIT_HEADERS,
    clerk,
    csv_bytes,
    other_project,
    owner_row,
    owners_sheet,
    project,
    unit_row,
    units_sheet,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/estates/import/"


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def post_file(client, project, content, name="房号.xlsx"):
    return client.post(IMPORT_URL, {"project": project.pk, "file": upload(content, name)})


def good_workbook():
    return xlsx_bytes(
        {
            "房号": units_sheet(unit_row(number="1501"), unit_row(number="1502")),
            "业主": owners_sheet(owner_row(number="1501"), owner_row(number="1502", name="李四", mobile="13900000002")),
        }
    )


def test_upload_preview_confirm(clerk_client, clerk, project):
    page = clerk_client.get(IMPORT_URL)
    assert page.status_code == 200
    assert "导入楼盘档案" in page.content.decode()

    response = post_file(clerk_client, project, good_workbook())

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("estates_import_job", args=[job.pk])
    assert job.status == ImportJob.Status.VALIDATED and not job.background
    assert Unit.objects.count() == 0  # a preview writes nothing
    preview = clerk_client.get(response.url).content.decode()
    assert "预览（尚未写入）" in preview and "确认导入" in preview
    assert "张三" in preview and "李四" in preview  # sample rows
    assert job.summary["sheets"][0] == {"kind": "units", "name": "房号", "rows": 2, "new": 2, "updated": 0, "unchanged": 0, "errors": 0}

    confirmed = clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))

    assert confirmed.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.finished_at is not None
    assert not job.file  # the upload (it may hold ID numbers) is gone
    assert (Unit.objects.count(), Owner.objects.count(), Ownership.objects.count()) == (2, 2, 2)
    history = Unit.objects.get(label="1-1-1501").history.get()
    assert history.history_user == clerk and history.history_change_reason == f"Excel 导入 #{job.pk}"
    done = clerk_client.get(confirmed.url).content.decode()
    assert "导入结果" in done and "确认导入" not in done


def test_confirming_twice_is_refused(clerk_client, project):
    post_file(clerk_client, project, good_workbook())
    job = ImportJob.objects.get()
    clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))

    again = clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))

    assert again.status_code == 409
    assert "该导入已完成，不能重复导入。" in again.content.decode()
    assert Unit.objects.count() == 2 and Unit.history.count() == 2


def test_confirm_needs_post(clerk_client, project):
    post_file(clerk_client, project, good_workbook())
    response = clerk_client.get(reverse("estates_import_confirm", args=[ImportJob.objects.get().pk]))
    assert response.status_code == 405


def test_row_errors_are_shown_and_cannot_be_confirmed(clerk_client, project):
    content = xlsx_bytes({"房号": units_sheet(unit_row(number="1501"), unit_row(building="9", number="901"))})

    response = post_file(clerk_client, project, content)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and not job.file
    page = clerk_client.get(response.url).content.decode()
    assert "楼栋“9”在项目“西湖花园”中不存在" in page
    assert "确认导入" not in page
    refused = clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))
    assert refused.status_code == 409
    assert "该文件有错误，不能导入" in refused.content.decode()
    assert Unit.objects.count() == 0


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 50, "照片.xlsx", "文件不是 Excel（.xlsx）或 CSV 文件。"),
        (b"MZ\x90\x00" + b"\x00" * 100, "房号.xlsx", "文件不是 Excel（.xlsx）或 CSV 文件。"),
        (b"", "空.csv", "所提交的是空文件。"),
    ],
)
def test_wrong_files_are_refused(clerk_client, project, content, name, message):
    response = post_file(clerk_client, project, content, name)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_too_large_file(clerk_client, project, settings):
    settings.ESTATES_IMPORT_MAX_BYTES = 1000

    response = post_file(clerk_client, project, good_workbook())

    assert response.status_code == 413
    assert "文件太大" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_csv_upload(clerk_client, project):
    content = csv_bytes([UNIT_HEADERS, unit_row(number="1501")], encoding="gb18030")

    response = post_file(clerk_client, project, content, "房号.csv")

    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.file_format == "csv" and job.kinds == "units"
    clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))
    assert Unit.objects.get().history.get().history_change_reason == f"CSV 导入 #{job.pk}"


def test_a_project_outside_the_clerks_scope_is_404(clerk_client, other_project):
    response = post_file(clerk_client, other_project, good_workbook())

    assert response.status_code == 404
    assert ImportJob.objects.count() == 0


def test_project_choices_are_the_clerks(clerk_client, project, other_project):
    page = clerk_client.get(IMPORT_URL).content.decode()
    assert project.name in page and other_project.name not in page


def test_jobs_of_others_and_of_other_projects_are_404(client, clerk_client, make_staff, project, other_project, admin_user):
    post_file(clerk_client, project, good_workbook())
    job = ImportJob.objects.get()
    colleague = make_staff("estates.add_unit", "estates.change_unit", projects=[project])
    client.force_login(colleague)
    assert client.get(reverse("estates_import_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("estates_import_confirm", args=[job.pk])).status_code == 404
    ImportJob.objects.filter(pk=job.pk).update(project=other_project)
    clerk_client.force_login(job.user)
    assert clerk_client.get(reverse("estates_import_job", args=[job.pk])).status_code == 404
    client.force_login(admin_user)
    page = client.get(reverse("estates_import_job", args=[job.pk]))
    assert page.status_code == 200
    assert "只有上传人（clerk）可以确认导入。" in page.content.decode()
    assert reverse("estates_import_confirm", args=[job.pk]) not in page.content.decode()
    # Only the uploader confirms: the history rows will name them.
    assert client.post(reverse("estates_import_confirm", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED


def test_staff_without_import_permissions(client, make_staff, project):
    client.force_login(make_staff("estates.view_unit", projects=[project]))

    for url in (IMPORT_URL, reverse("estates_import_template")):
        response = client.get(url)  # Wagtail's answer to PermissionDenied: back home, with a message
        assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    response = client.post(IMPORT_URL, {"project": project.pk, "file": upload(good_workbook())})
    assert response.status_code == 302
    assert ImportJob.objects.count() == 0


def test_importing_a_kind_needs_its_permissions(client, make_staff, project):
    client.force_login(make_staff("estates.add_unit", "estates.change_unit", projects=[project]))

    response = post_file(client, project, good_workbook())

    assert response.status_code == 403
    assert "您没有导入业主的权限" in response.content.decode()
    assert ImportJob.objects.count() == 0
    only_units = post_file(client, project, xlsx_bytes({"房号": units_sheet(unit_row())}))
    assert only_units.status_code == 302


def test_template_download(clerk_client, project):
    response = clerk_client.get(reverse("estates_import_template"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["说明", "房号", "业主", "施工单位"]
    header = lambda name: [c.value for c in next(workbook[name].iter_rows(max_row=1))]  # noqa: E731
    assert header("房号") == UNIT_HEADERS
    assert header("业主") == OWNER_HEADERS
    assert header("施工单位") == CONTRACTOR_HEADERS
    assert all(workbook[name].max_row == 2 for name in ("房号", "业主", "施工单位"))  # an example row each
    assert "必填" in " ".join(str(c.value) for row in workbook["说明"].iter_rows() for c in row if c.value)


def test_the_untouched_template_imports_nothing_and_says_so(clerk_client, project):
    template = clerk_client.get(reverse("estates_import_template")).content

    response = post_file(clerk_client, project, template, "模板.xlsx")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    page = clerk_client.get(response.url).content.decode()
    assert "文件中没有可导入的数据行。" in page and "模板示例" in page


def test_a_filled_in_template_imports(clerk_client, project):
    workbook = load_workbook(io.BytesIO(clerk_client.get(reverse("estates_import_template")).content))
    sheet = workbook["房号"]
    for index, value in enumerate(["1号楼", "1", 3, "301"], start=1):
        sheet.cell(row=2, column=index, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = post_file(clerk_client, project, buffer.getvalue(), "模板.xlsx")

    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportJob.Status.VALIDATED, job.summary
    clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))
    assert Unit.objects.get().label == "1-1-301"


@pytest.mark.parametrize("model", ["unit", "owner", "contractor"])
def test_listing_header_has_an_import_button(admin_client, model):
    page = admin_client.get(f"/admin/snippets/estates/{model}/").content.decode()
    assert f'href="{IMPORT_URL}"' in page and "导入" in page


def test_no_import_button_without_permission(client, make_staff, project):
    client.force_login(make_staff("estates.view_unit", projects=[project]))
    page = client.get("/admin/snippets/estates/unit/")
    assert page.status_code == 200
    assert f'href="{IMPORT_URL}"' not in page.content.decode()


@pytest.mark.parametrize("rows", [2, 300])
def test_preview_and_job_pages_query_counts(clerk_client, project, django_assert_max_num_queries, rows):
    content = xlsx_bytes({"房号": units_sheet(*(unit_row(number=str(1000 + n)) for n in range(rows)))})
    response = post_file(clerk_client, project, content)
    job = ImportJob.objects.get()

    with django_assert_max_num_queries(12):
        assert clerk_client.get(response.url).status_code == 200
    with django_assert_max_num_queries(12):
        assert clerk_client.get(IMPORT_URL).status_code == 200
    clerk_client.post(reverse("estates_import_confirm", args=[job.pk]))
    with django_assert_max_num_queries(12):
        assert clerk_client.get(response.url).status_code == 200
