"""The downloadable template workbook: a notes sheet, then one sheet per kind with its Chinese
headers (required ones in red, each with a comment), an example row, drop-down lists and text
format on the columns Excel would otherwise mangle (ID numbers, phones, room numbers)."""

import io

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from estates.models import HandoverStatus

from . import cells, schema

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FONT = Font(bold=True)
EXAMPLE_FONT = Font(italic=True, color="808080")
VALIDATION_ROWS = 100_000


def build():
    """The template as .xlsx bytes."""
    workbook = Workbook()
    _notes(workbook.active)
    for kind in schema.KINDS:
        _data_sheet(workbook.create_sheet(str(kind.label)), kind)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _data_sheet(sheet, kind):
    for index, column in enumerate(kind.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=str(column.label))
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill = HEADER_FILL
        cell.comment = Comment(_comment(column), "安居")
        sheet.column_dimensions[letter].width = max(12, len(str(column.label)) * 2 + 4)
        if column.text_format:
            sheet.column_dimensions[letter].number_format = "@"
        example = sheet.cell(row=2, column=index, value=column.example)
        example.font = EXAMPLE_FONT
        if column.text_format:
            example.number_format = "@"
        elif column.parse is cells.date:
            example.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    _drop_downs(sheet, kind)


def _comment(column):
    text = _("必填。") if column.required else _("选填。")
    return text + (_(column.help) if column.help else "")


def _drop_downs(sheet, kind):
    lists = {
        "handover_status": [str(label) for _value, label in HandoverStatus.choices],
        "is_primary": [_("是"), _("否")],
    }
    for index, column in enumerate(kind.columns, start=1):
        if column.key not in lists:
            continue
        choices = '"%s"' % ",".join(lists[column.key])
        validation = DataValidation(type="list", formula1=choices, allow_blank=True)
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{VALIDATION_ROWS}")
        sheet.add_data_validation(validation)


def _notes(sheet):
    sheet.title = _("说明")
    lines = [
        (_("楼盘档案导入说明"), Font(bold=True, size=14)),
        (_("1. 每个工作表一种数据：“房号”“业主”“施工单位”，不需要的工作表可以删除或留空，但至少要填一种。"), None),
        (_("2. 第 1 行是表头，请勿改名；红色表头为必填列。第 2 行（灰色斜体）是示例，请覆盖或删除——原样保留的示例行会被自动跳过。"), None),
        (_("3. 所有数据都导入到上传时选择的项目；楼栋须已在系统中建好，楼栋列可填编号（如 3）或名称（如 3号楼）。"), None),
        (
            _(
                "4. 房号按“楼栋 + 单元 + 房号”识别，业主按身份证号识别（没有身份证号时按姓名 + 手机号），"
                "施工单位按单位名称识别：已存在的会更新，不存在的会新增；重复导入同一文件不会产生重复数据。"
            ),
            None,
        ),
        (_("5. 空白单元格不会清空系统中已有的值；施工单位的工种和服务项目只会增加，不会删除。"), None),
        (_("6. 身份证号、手机号、房号请保持“文本”格式，避免 Excel 改成科学计数法或去掉开头的 0。系统只保存身份证号的摘要和后四位。"), None),
        (_("   请不要合并单元格：合并后只有第一行有值，其余行会被当作空白。"), None),
        (_("7. 上传后系统先校验并预览，任何一行有错误都不会导入；确认后一次性写入。也可以把每种数据另存为 CSV（UTF-8）分别上传。"), None),
        (
            _("8. 文件最大 %(max)s MB；超过 %(rows)s 行的文件在后台处理，页面会显示进度。")
            % {
                "max": settings.ESTATES_IMPORT_MAX_BYTES // (1024 * 1024),
                "rows": settings.ESTATES_IMPORT_BACKGROUND_ROWS,
            },
            None,
        ),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        cell = sheet.cell(row=row, column=1, value=text)
        if font:
            cell.font = font
    row = len(lines) + 2
    for kind in schema.KINDS:
        title = sheet.cell(row=row, column=1, value=_("工作表“%(name)s”") % {"name": kind.label})
        title.font = Font(bold=True, size=12)
        row += 1
        for col, title in enumerate((_("列名"), _("是否必填"), _("说明"), _("示例")), start=1):
            sheet.cell(row=row, column=col, value=title).font = HEADER_FONT
        row += 1
        for column in kind.columns:
            example = column.example
            if hasattr(example, "isoformat"):
                example = example.isoformat()
            required = _("必填") if column.required else _("选填")
            values = (str(column.label), required, _(column.help) if column.help else "", example)
            for col, value in enumerate(values, start=1):
                sheet.cell(row=row, column=col, value=value)
            row += 1
        row += 1
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 60
    sheet.column_dimensions["D"].width = 24
