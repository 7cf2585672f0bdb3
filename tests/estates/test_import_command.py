"""manage.py import_estates: the same engine from the command line, Chinese output, non-zero
exit on any error."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from estates.models import ImportJob, Owner, Unit

from .test_import_helpers import (  # noqa: F401 (fixtures)
    owner_row,
    owners_sheet,
    project,
    unit_row,
    units_sheet,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "registry.xlsx"
    path.write_bytes(xlsx_bytes({"房号": units_sheet(unit_row(number="1501")), "业主": owners_sheet(owner_row(number="1501"))}))
    return path


def call(*args):
    from io import StringIO

    out = StringIO()
    call_command("import_estates", *map(str, args), stdout=out)
    return out.getvalue()


def test_import(good_file, project, admin_user):
    output = call(good_file, "--project", "HZ01", "--user", "admin")

    assert "工作表“房号”：1 行，新增 1，更新 0，不变 0" in output
    assert "工作表“业主”：1 行，新增 1，更新 0，不变 0" in output
    job = ImportJob.objects.get()
    assert f"导入完成：导入记录 #{job.pk}" in output
    assert job.status == ImportJob.Status.DONE and job.user == admin_user
    unit = Unit.objects.get()
    assert unit.history.get().history_user == admin_user
    assert unit.history.get().history_change_reason == f"Excel 导入 #{job.pk}"

    again = call(good_file, "--project", "HZ01")
    assert "新增 0，更新 0，不变 1" in again
    assert Unit.objects.count() == 1 and Owner.objects.count() == 1


def test_dry_run_writes_nothing(good_file, project):
    output = call(good_file, "--project", "HZ01", "--dry-run")

    assert "新增 1" in output and "试运行" in output
    assert Unit.objects.count() == 0 and ImportJob.objects.count() == 0


def test_row_errors_exit_non_zero(tmp_path, project):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx_bytes({"房号": units_sheet(unit_row(number="1501"), unit_row(building="8", number="801"))}))

    with pytest.raises(CommandError) as excinfo:
        call(path, "--project", "HZ01")

    assert str(excinfo.value) == "共 1 个错误，未导入任何数据。"
    assert Unit.objects.count() == 0


def test_row_errors_are_printed(tmp_path, project, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx_bytes({"房号": units_sheet(unit_row(building="8", number="801"))}))
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_estates", str(path), "--project", "HZ01", stdout=out)
    assert "错误：“房号”第 2 行：楼栋“8”在项目“西湖花园”中不存在" in out.getvalue()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--project", "NOPE"], "项目编码“NOPE”不存在。"),
        (["--project", "HZ01", "--user", "nobody"], "用户“nobody”不存在。"),
    ],
)
def test_bad_arguments(good_file, project, args, message):
    with pytest.raises(CommandError) as excinfo:
        call(good_file, *args)
    assert str(excinfo.value) == message


def test_missing_and_wrong_files(tmp_path, project):
    with pytest.raises(CommandError) as excinfo:
        call(tmp_path / "missing.xlsx", "--project", "HZ01")
    assert str(excinfo.value).startswith("无法读取文件")

    picture = tmp_path / "photo.xlsx"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40)
    with pytest.raises(CommandError) as excinfo:
        call(picture, "--project", "HZ01")
    assert str(excinfo.value) == "文件不是 Excel（.xlsx）或 CSV 文件。"
