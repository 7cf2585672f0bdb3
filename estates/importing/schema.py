"""What an import file may contain: three kinds of sheet, their Chinese headers and cell parsers.

Headers are matched loosely: full-width forms, spaces, a "*" mark and a trailing bracketed unit
("建筑面积（㎡）") are ignored, and a few common aliases are accepted. The template workbook,
the preview and the notes sheet are all generated from these declarations.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from estates.models import HandoverStatus

from . import cells

UNITS, OWNERS, CONTRACTORS = "units", "owners", "contractors"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # source (Chinese) header; shown through gettext
    parse: Callable  # (cell value, label) → value or None; raises cells.CellError
    required: bool = False
    aliases: tuple = ()
    help: str = ""
    example: object = None
    text_format: bool = False  # the template formats this column as text (IDs, phones, codes)
    show: Callable = None  # parsed value → what the preview shows, when str() is not right

    @property
    def label(self):
        return _(self.header)


@dataclass(frozen=True)
class Kind:
    key: str
    sheet: str  # source (Chinese) sheet name
    columns: tuple
    permissions: tuple  # "app_label.codename" needed to import this kind
    sheet_aliases: tuple = ()
    columns_by_key: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "columns_by_key", {c.key: c for c in self.columns})

    @property
    def label(self):
        return _(self.sheet)

    @property
    def required(self):
        return [c for c in self.columns if c.required]


def display(column, value):
    """A parsed value as the preview shows it."""
    if value is None:
        return ""
    if column.show is not None:
        return column.show(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def display_row(kind, values):
    return [display(column, values.get(column.key)) for column in kind.columns]


def header_key(value):
    """"  建筑面积（㎡）* " → "建筑面积"."""
    text = unicodedata.normalize("NFKC", str(value or "")).replace("*", "")
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\(.*\)$", "", text).lower()


def _text(max_length):
    return lambda value, label: cells.text(value, label, max_length)


def _code(max_length, suffix=""):
    return lambda value, label: cells.code(value, label, max_length, suffix)


def _decimal(max_digits):
    return lambda value, label: cells.decimal(value, label, max_digits)


def _floor(value, label):
    return cells.integer(value, label, -20, 300)


_handover_choices = {}


def _handover_status(value, label):
    language = get_language()
    if language not in _handover_choices:  # labels are lazy: translate once, not once a row
        _handover_choices[language] = [(v, str(d)) for v, d in HandoverStatus.choices]
    return cells.choice(value, label, _handover_choices[language])


def _mobile(value, label):
    return cells.mobile(value)


def _id_number(value, label):
    return cells.id_number(value)


def _show_id(value):
    return "*" * 14 + value[1]


def _show_handover_status(value):
    return str(HandoverStatus(value).label)


def _list(value, label):
    return cells.name_list(value)


BUILDING = Column(
    "building", N_("楼栋"), _code(50), required=True, aliases=("楼号", "楼栋号", "楼栋编号", "楼栋名称"),
    help=N_("楼栋编号或名称，如 3 或 3号楼；楼栋须已在系统中建好。"), example="3号楼", text_format=True,
)
ENTRANCE = Column(
    "entrance", N_("单元"), _code(10, "单元"), aliases=("单元号",),
    help=N_("单元号，如 2；没有单元可留空。"), example="2", text_format=True,
)
NUMBER = Column(
    "number", N_("房号"), _code(20, "室"), required=True, aliases=("房间号", "室号"),
    help=N_("房号，如 1502。"), example="1502", text_format=True,
)

UNIT_KIND = Kind(
    UNITS,
    N_("房号"),
    (
        BUILDING,
        ENTRANCE,
        Column("floor", N_("楼层"), _floor, help=N_("整数，地下层用负数。"), example=15),
        NUMBER,
        Column(
            "area", N_("建筑面积"), _decimal(8), aliases=("面积",),
            help=N_("单位：平方米，最多两位小数。"), example=Decimal("89.50"),
        ),
        Column("layout", N_("户型"), _text(50), help=N_("如 三室两厅一卫。"), example="三室两厅一卫"),
        Column("delivery_batch", N_("交付批次"), _text(50), aliases=("批次",), example="2026年第一批"),
        Column(
            "handover_status", N_("交付状态"), _handover_status, aliases=("状态",),
            help=N_("待交付、已预约、已交付或拒收；新房号留空为待交付。"), example="待交付",
            show=_show_handover_status,
        ),
        Column(
            "handover_date", N_("交付日期"), cells.date,
            help=N_("日期，如 2026-03-01。"), example=datetime.date(2026, 3, 1),
        ),
    ),
    ("estates.add_unit", "estates.change_unit"),
    sheet_aliases=("房屋", "房间", "房号信息"),
)

OWNER_KIND = Kind(
    OWNERS,
    N_("业主"),
    (
        BUILDING,
        ENTRANCE,
        NUMBER,
        Column("name", N_("业主姓名"), _text(50), required=True, aliases=("姓名", "业主"), example="张三"),
        Column(
            "mobile", N_("手机号"), _mobile, required=True, aliases=("手机", "手机号码", "联系电话", "电话"),
            help=N_("11 位中国大陆手机号。"), example="13800138000", text_format=True,
        ),
        Column(
            "id_number", N_("身份证号"), _id_number, aliases=("身份证", "身份证号码", "证件号码", "证件号"),
            help=N_("18 位身份证号，请设为文本格式；系统只保存其摘要和后四位。"),
            example="11010119900307803X", text_format=True, show=_show_id,
        ),
        Column(
            "is_primary", N_("主业主"), cells.boolean, aliases=("是否主业主",),
            help=N_("是或否；新产权留空为是。"), example="是",
        ),
        Column(
            "start", N_("产权起始日期"), cells.date, aliases=("起始日期", "产权开始日期"),
            example=datetime.date(2026, 3, 1),
        ),
        Column(
            "email", N_("电子邮箱"), cells.email, aliases=("邮箱", "email", "e-mail"),
            example="zhangsan@example.com",
        ),
    ),
    ("estates.add_owner", "estates.change_owner", "estates.add_ownership", "estates.change_ownership"),
    sheet_aliases=("业主信息", "产权", "业主产权"),
)

CONTRACTOR_KIND = Kind(
    CONTRACTORS,
    N_("施工单位"),
    (
        Column(
            "name", N_("单位名称"), _text(100), required=True, aliases=("施工单位", "单位", "名称"),
            example="某某建设工程有限公司",
        ),
        Column("trades", N_("工种"), _list, help=N_("系统中的工种名称，多个用、或逗号分隔。"), example="水电、防水"),
        Column("contact_name", N_("联系人"), _text(50), example="王师傅"),
        Column(
            "contact_mobile", N_("联系手机"), _mobile, aliases=("联系电话", "手机号", "手机"),
            example="13900000001", text_format=True,
        ),
        Column("warranty_deposit", N_("质保金"), _decimal(12), help=N_("单位：元。"), example=Decimal("50000.00")),
        Column(
            "projects", N_("服务项目"), _list, aliases=("项目",),
            help=N_("项目名称或编码，多个用、分隔；留空即所选项目，所选项目总会加入。"),
        ),
    ),
    ("estates.add_contractor", "estates.change_contractor"),
    sheet_aliases=("承建单位", "施工单位信息", "维修单位"),
)

KINDS = (UNIT_KIND, OWNER_KIND, CONTRACTOR_KIND)
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}


def kind_for_sheet(title):
    key = header_key(title)
    for kind in KINDS:
        if key in {header_key(kind.sheet), header_key(_(kind.sheet)), *map(header_key, kind.sheet_aliases)}:
            return kind
    return None


def map_headers(kind, headers):
    """Column index → Column for the headers of ``kind`` found in ``headers``; also returns
    the headers nobody knows and the keys that appear twice."""
    names = {}
    for column in kind.columns:
        for name in (column.header, _(column.header), *column.aliases):
            names.setdefault(header_key(name), column)
    mapping, unknown, seen, twice = {}, [], set(), []
    for index, header in enumerate(headers):
        if header_key(header) == "":
            continue
        column = names.get(header_key(header))
        if column is None:
            unknown.append(str(header).strip())
        elif column.key in seen:
            twice.append(column)
        else:
            seen.add(column.key)
            mapping[index] = column
    return mapping, unknown, twice


def guess_kind(headers):
    """The kind a CSV file holds, judged by its headers: the kind whose required columns are
    all there (the one matching most columns on a tie), else the closest one; None if no
    header is known at all."""
    best, best_score = None, (-1, -1)
    for kind in KINDS:
        mapping = map_headers(kind, headers)[0]
        keys = {column.key for column in mapping.values()}
        complete = all(column.key in keys for column in kind.required)
        # Owners' and units' headers overlap (楼栋, 单元, 房号): count the kind's own columns.
        score = (int(complete), len(keys))
        if score > best_score:
            best, best_score = kind, score
    return best if best_score[1] > 0 else None
