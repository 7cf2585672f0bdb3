"""The case sheet: its columns, Chinese headers and cell parsers.

The headers are those of the case list's export (``viewsets.CASE_EXPORT``), so an export
re-imports as it is, plus what historic cases carry: complaint grade, result and call-back
score. Headers match loosely (estates.importing.schema.header_key) and a few aliases are
accepted. Parsers only clean cells; names (project, unit, category …) are looked up in the
database by the importer.
"""

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from openpyxl.utils.datetime import from_excel

from estates.importing import cells
from estates.importing.cells import CellError
from estates.importing.schema import Column, Kind
from estates.normalize import clean_text

from ..models import Channel, ComplaintGrade, Priority, Status
from ..models import Kind as CaseKind

CASES = "cases"
DATETIME_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:[ T]+|(?<=日))(\d{1,2})\s*[:时]\s*(\d{1,2})\s*分?(?::(\d{1,2})(?:\.\d+)?)?)?$"
)
#: What Excel shows in a cell whose formula failed; data_only reading returns it as text.
EXCEL_ERRORS = {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"}
TIME_FORMAT = "%Y-%m-%d %H:%M"
HALF_SECOND = dt.timedelta(microseconds=500_000)


def moment(value, label):
    """A date and time in Asia/Shanghai: datetime cells (Excel stores no zone), Excel serials,
    and text such as 2023-01-05 09:30, 2023/1/5 9:30:00, 2023年1月5日 9时30分 or an ISO time
    with an offset. A date alone means midnight."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if cells.EXCEL_SERIAL_RANGE[0] <= value <= cells.EXCEL_SERIAL_RANGE[1]:
            value = from_excel(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        value = _parse_moment(clean_text(value), label)
        if value is None:
            return None
    try:
        # Whole seconds: Excel keeps times as fractions of a day, 09:30 may come back as 09:29:59.9999.
        value = (value + HALF_SECOND).replace(microsecond=0)
        return timezone.make_aware(value) if timezone.is_naive(value) else timezone.localtime(value)
    except (OverflowError, ValueError):  # the very edge of the calendar, e.g. 9999-12-31 23:59:59.9
        raise CellError(_invalid_moment(label, value)) from None


def _parse_moment(raw, label):
    if not raw:
        return None
    match = DATETIME_RE.match(raw)
    try:
        if match:
            return dt.datetime(*(int(part or 0) for part in match.groups()))
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        pass
    raise CellError(_invalid_moment(label, raw))


def _invalid_moment(label, value):
    return _("%(field)s“%(value)s”不是有效的日期时间，请写成 2023-01-05 09:30。") % {"field": label, "value": value}


def show_moment(value):
    return timezone.localtime(value).strftime(TIME_FORMAT)


_choices = {}


def _choice(enum):
    """A parser accepting an enum's Chinese label or its stored value. The labels are lazy:
    translated once per language, not once per cell."""

    def parse(value, label):
        key = (enum, get_language())
        if key not in _choices:
            _choices[key] = [(stored, str(display)) for stored, display in enum.choices]
        return cells.choice(value, label, _choices[key])

    return parse


def _show(enum):
    return lambda value: str(enum(value).label)


def _text(max_length):
    return lambda value, label: cells.text(value, label, max_length)


def _code(max_length):
    return lambda value, label: cells.code(value, label, max_length)


def _mobile(value, label):
    return cells.mobile(value)


def _score(value, label):
    return cells.integer(value, label, 1, 5)


def _refusing_excel_errors(parse):
    """A formula that failed leaves "#N/A" or "#VALUE!" behind: say so, rather than "invalid
    mobile number"."""

    def parse_cell(value, label):
        if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
            raise CellError(
                _("%(field)s是 Excel 的错误值“%(value)s”（公式出错），请改为实际内容。")
                % {"field": label, "value": value.strip()}
            )
        return parse(value, label)

    return parse_cell


def _column(key, header, parse, **options):
    return Column(key, header, _refusing_excel_errors(parse), **options)


def _moment_column(key, header, example, **options):
    return _column(key, header, moment, example=example, show=show_moment, **options)


CASE_KIND = Kind(
    CASES,
    N_("工单"),
    (
        _column(
            "number", N_("工单号"), _code(24), aliases=("编号", "单号", "工单编号"),
            help=N_("留空则按类型和登记日期自动编号；填写时原样保留，不能与系统中已有的工单号重复。"),
            example="BX20230105-0003", text_format=True,
        ),
        _column(
            "kind", N_("类型"), _choice(CaseKind), required=True, aliases=("工单类型",),
            help=N_("报修、投诉或咨询。"), example="报修", show=_show(CaseKind),
        ),
        _column(
            "channel", N_("来源渠道"), _choice(Channel), aliases=("渠道", "来源", "报事渠道"),
            help=N_("留空为客服热线。"), example="客服热线", show=_show(Channel),
        ),
        _column(
            "category", N_("分类"), _text(120), aliases=("工单分类", "类别"),
            help=N_("分类名称、“上级 / 名称”或分类编码，须与类型相符。"), example="日常维修 / 给排水",
        ),
        _column(
            "priority", N_("紧急程度"), _choice(Priority), aliases=("优先级",),
            help=N_("紧急、加急或一般；留空为一般（紧急类分类为紧急）。"), example="一般", show=_show(Priority),
        ),
        _column(
            "complaint_grade", N_("投诉等级"), _choice(ComplaintGrade), aliases=("等级",),
            help=N_("仅投诉填写：一般投诉、重要投诉或重大投诉。"), show=_show(ComplaintGrade),
        ),
        _column(
            "status", N_("状态"), _choice(Status), required=True, aliases=("工单状态",),
            help=N_("如已关闭、已取消、处理中；已关闭和已取消的工单须填写关闭时间。"), example="已关闭",
            show=_show(Status),
        ),
        _column(
            "project", N_("项目"), _text(100), required=True, aliases=("项目名称", "项目编码", "楼盘"),
            help=N_("项目编码或名称；只能导入您负责的项目。"), example="HZ01", text_format=True,
        ),
        _column(
            "building", N_("楼栋"), _code(50), aliases=("楼号", "楼栋号", "楼栋名称"),
            help=N_("楼栋编号或名称，如 3 或 3号楼；可留空，由房号带出。"), example="3号楼", text_format=True,
        ),
        _column(
            "unit", N_("房号"), _code(60), aliases=("房号全称", "房间号", "房屋"),
            help=N_("房号全称，如 3-2-1502；填了楼栋时也可只写 2-1502。"), example="3-2-1502", text_format=True,
        ),
        _column(
            "reporter_name", N_("报事人"), _text(50), required=True, aliases=("报事人姓名", "联系人", "姓名"),
            example="王女士",
        ),
        _column(
            "reporter_mobile", N_("联系电话"), _mobile, required=True,
            aliases=("手机号", "手机", "手机号码", "联系手机", "电话"),
            help=N_("11 位中国大陆手机号。"), example="13800138000", text_format=True,
        ),
        _column(
            "description", N_("问题描述"), _text(2000), required=True, aliases=("描述", "报事内容", "内容"),
            example="卫生间天花板漏水",
        ),
        _column(
            "department", N_("责任部门"), _text(100), aliases=("部门",),
            help=N_("部门名称或编码，须已在系统中建好。"), example="工程部",
        ),
        _column(
            "contractor", N_("施工单位"), _text(100), aliases=("维修单位",),
            help=N_("单位名称，须已在系统中建好。"), example="某某建设工程有限公司",
        ),
        _column(
            "assignee", N_("处理人"), _text(50),
            help=N_("仅记入导入记录，不关联系统用户。"), example="李工",
        ),
        _moment_column(
            "registered_at", N_("登记时间"), dt.datetime(2023, 1, 5, 9, 30), required=True,
            aliases=("报事时间", "创建时间"), help=N_("日期时间，如 2023-01-05 09:30（北京时间）。"),
        ),
        _moment_column("dispatched_at", N_("派单时间"), dt.datetime(2023, 1, 5, 10, 0)),
        _moment_column("completed_at", N_("完工时间"), dt.datetime(2023, 1, 6, 15, 0), aliases=("完成时间",)),
        _moment_column(
            "closed_at", N_("关闭时间"), dt.datetime(2023, 1, 9, 10, 0), aliases=("办结时间", "结案时间"),
        ),
        _column(
            "result", N_("处理结果"), _text(2000), aliases=("处理情况", "结果"),
            example="更换防水层，业主确认不再渗漏",
        ),
        _column(
            "callback_score", N_("回访评分"), _score, aliases=("满意度", "满意度评分", "回访满意度"),
            help=N_("1 到 5 的整数。"), example=5,
        ),
    ),
    ("cases.add_case",),
    sheet_aliases=("历史工单", "工单导入"),
)
COLUMNS = CASE_KIND.columns_by_key
MOMENTS = ("registered_at", "dispatched_at", "completed_at", "closed_at")
