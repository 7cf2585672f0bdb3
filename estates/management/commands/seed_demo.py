"""`manage.py seed_demo [--size small|large]`: a believable Chinese demo registry.

small: two projects (杭州, 成都), 10 buildings, about 2,000 units, their owners and ownerships,
departments and contractors. large: the same plus more projects, 100,000 units in all, for
benchmarks.

How it stays fast and repeatable:

* Deterministic. Every building draws from its own ``random.Random`` seeded with the project and
  building codes, and the plan is one fixed stream of projects → buildings → units. A smaller
  plan is always a prefix of a larger one, so ``small`` then ``large`` only adds what is missing,
  and the same unit always gets the same layout, status and owners.
* Idempotent. The whole plan is built in memory, what already exists is read with one query per
  table (projects by code, buildings by code, units by building/entrance/number, owners by
  mobile, ownerships by owner and unit) and only the difference is written. Existing rows are
  never changed, so an administrator's edits survive a second run.
* Bulk. New rows go through ``simple_history.utils.bulk_create_with_history`` (reason "演示数据"),
  so every row has its creation history row without one INSERT per object. ``Unit.save()`` is
  bypassed, so the plan sets ``project_id`` and ``label`` itself.

Owners' mobiles use the segment 154, which no mainland carrier has been allocated: the numbers
pass validation but reach nobody. ID numbers are synthetic (valid GB 11643 check digit) and,
as everywhere else, only their HMAC and last four characters are stored.
"""

import argparse
import itertools
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from estates.models import (
    Building,
    Contractor,
    Department,
    HandoverStatus,
    Owner,
    Ownership,
    Project,
    Trade,
    Unit,
)
from estates.normalize import ID_CHECK_CHARS, ID_WEIGHTS, hash_id_number

CHANGE_REASON = "演示数据"
LARGE_UNITS = 100_000
#: No mainland carrier uses 154: valid format, reaches nobody.
DEMO_MOBILE_PREFIX = "154"
#: The demo is a snapshot as of this day: handovers before it are done, later ones pending.
AS_OF = date(2026, 11, 20)
CHUNK = 5000  # objects per bulk_create_with_history call (bounds memory at 100,000 units)
BATCH_SIZE = 1000  # rows per INSERT (SQLite lowers it to its own parameter limit)


# --- Specifications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSpec:
    name: str  # 交付批次
    start: date  # first handover day
    sold_ratio: float

    @property
    def mode(self):
        if self.start > AS_OF:
            return "upcoming"
        if self.start + timedelta(days=60) <= AS_OF:
            return "done"
        return "ongoing"


@dataclass(frozen=True)
class BuildingSpec:
    code: str
    floors: int
    entrances: int
    per_floor: int
    batch: BatchSpec

    @property
    def unit_count(self):
        return self.floors * self.entrances * self.per_floor


@dataclass(frozen=True)
class ProjectSpec:
    code: str
    name: str
    city: str
    address: str
    hotline: str
    sales_open: date
    region_codes: tuple  # ID-number area codes of local buyers
    buildings: tuple

    @property
    def unit_count(self):
        return sum(b.unit_count for b in self.buildings)

    def service_plan(self):
        return SERVICE_PLAN.format(name=self.name, hotline=self.hotline)


SERVICE_PLAN = """{name}客户服务方案
一、统一受理：客服热线 {hotline}（每日 8:30–20:00），夜间紧急报修由物业服务中心 24 小时值班接听；报修、投诉、咨询统一登记为工单，业主可在“我的家”查看进度。
二、报修：派单后 30 分钟内由维修单位联系业主预约上门；停水、停电、电梯困人等紧急情况 30 分钟内到场；维修完成 3 个工作日内回访。
三、投诉：2 小时内确认受理，24 小时内答复处理结果或当前进展，结案后 24 小时内回访、7 日内现场复查。
四、交付：交付前完成一户一验并抽查复核；交付现场设客服接待点，当日汇总收房情况。
五、沟通：每季度发布工程进展通报，定期举办工地开放日，每年开展满意度调查。"""


def _b(code, floors, entrances, per_floor, batch):
    return BuildingSpec(str(code), floors, entrances, per_floor, batch)


_HZ_1 = BatchSpec("第一批", date(2025, 6, 28), 0.95)
_HZ_2 = BatchSpec("第二批", date(2026, 10, 31), 0.88)
_CD_1 = BatchSpec("第一批", date(2025, 12, 20), 0.93)
_CD_2 = BatchSpec("第二批", date(2026, 11, 8), 0.85)
_CD_3 = BatchSpec("第三批", date(2027, 6, 30), 0.62)

# Building numbers skip 4 and 13, as many developers' do.
SMALL_PROJECTS = (
    ProjectSpec(
        code="HZ-YYLT",
        name="安居·映月澜庭",
        city="杭州",
        address="浙江省杭州市余杭区良渚街道映月路 188 号",
        hotline="400-000-5101",
        sales_open=date(2023, 4, 15),
        region_codes=("330110", "330106", "330105", "330108", "330102"),
        buildings=(
            _b(1, 33, 2, 3, _HZ_1),
            _b(2, 33, 2, 3, _HZ_1),
            _b(3, 33, 2, 4, _HZ_1),
            _b(5, 18, 2, 3, _HZ_2),
            _b(6, 11, 3, 2, _HZ_2),
        ),
    ),
    ProjectSpec(
        code="CD-JJYF",
        name="安居·锦江悦府",
        city="成都",
        address="四川省成都市锦江区三圣街道悦府路 66 号",
        hotline="400-000-5102",
        sales_open=date(2023, 9, 1),
        region_codes=("510104", "510107", "510105", "510108", "510116"),
        buildings=(
            _b(1, 32, 2, 4, _CD_1),
            _b(2, 32, 2, 4, _CD_1),
            _b(3, 30, 2, 3, _CD_2),
            _b(5, 30, 2, 3, _CD_2),
            _b(6, 34, 2, 4, _CD_3),
        ),
    ),
)
SMALL_UNITS = sum(p.unit_count for p in SMALL_PROJECTS)

# Further projects for --size large: (code, name, city, address, area codes).
EXTRA_PROJECTS = (
    ("SZ-LHYY", "安居·澜湖雅苑", "苏州", "江苏省苏州市吴中区澜湖路 99 号", ("320506", "320505", "320508")),
    ("NJ-ZSCY", "安居·钟山宸院", "南京", "江苏省南京市玄武区宸院街 18 号", ("320102", "320104", "320106")),
    ("WH-JCYX", "安居·江城印象", "武汉", "湖北省武汉市江岸区印象大道 300 号", ("420102", "420106", "420111")),
    ("XA-QJYZ", "安居·曲江雅著", "西安", "陕西省西安市雁塔区雅著路 7 号", ("610113", "610102", "610103")),
    ("CQ-LJYD", "安居·两江云邸", "重庆", "重庆市渝北区云邸大道 1 号", ("500112", "500103", "500105")),
    ("CS-XJYF", "安居·湘江悦府", "长沙", "湖南省长沙市岳麓区湘悦路 88 号", ("430104", "430102", "430105")),
    ("HF-BHCX", "安居·滨湖春晓", "合肥", "安徽省合肥市包河区春晓路 126 号", ("340111", "340104", "340103")),
    ("ZZ-ZYGL", "安居·中原观澜", "郑州", "河南省郑州市金水区观澜街 56 号", ("410105", "410102", "410104")),
    ("NB-SJY", "安居·三江月", "宁波", "浙江省宁波市海曙区三江月路 9 号", ("330203", "330212", "330205")),
    ("WX-THYQ", "安居·太湖云栖", "无锡", "江苏省无锡市滨湖区云栖路 208 号", ("320211", "320214", "320213")),
    ("QD-HYTL", "安居·海映天澜", "青岛", "山东省青岛市崂山区天澜路 17 号", ("370212", "370202", "370203")),
    ("KM-DCCF", "安居·滇池春风", "昆明", "云南省昆明市西山区春风路 35 号", ("530112", "530102", "530111")),
    ("NC-GJF", "安居·赣江府", "南昌", "江西省南昌市红谷滩区赣江府路 6 号", ("360113", "360102", "360111")),
    ("FS-QDHP", "安居·千灯湖畔", "佛山", "广东省佛山市南海区湖畔路 23 号", ("440605", "440604", "440606")),
    ("JN-QCYJ", "安居·泉城雅集", "济南", "山东省济南市历下区雅集路 101 号", ("370102", "370112", "370103")),
    ("FZ-MJZA", "安居·闽江左岸", "福州", "福建省福州市台江区左岸路 12 号", ("350103", "350102", "350104")),
    ("GY-HXLS", "安居·花溪澜山", "贵阳", "贵州省贵阳市花溪区澜山路 45 号", ("520111", "520102", "520103")),
    ("TJ-HHY", "安居·海河印", "天津", "天津市河西区海河印路 77 号", ("120103", "120101", "120104")),
)
PHASES = ("", "二期", "三期", "四期", "五期")

# Buyers from elsewhere (a real area code, so a generated ID number looks like a real one).
OTHER_REGION_CODES = (
    "340881", "411302", "430602", "511303", "362201", "421182", "130102", "210102",
    "230103", "360124", "450102", "610402", "350583", "320681", "330381", "440106",
)

DEPARTMENTS = (
    ("CS", "客服部", "400-000-5100 转 1", "统一受理报修、投诉、咨询；派单、跟进、回访与结案；满意度调查。"),
    ("ENG", "工程部", "400-000-5100 转 2", "工程质量与进度；维修派单与施工单位管理；一户一验与复验。"),
    ("PM", "物业服务中心", "400-000-5100 转 3", "日常物业服务、公共区域维护、夜间与紧急情况值班。"),
    ("LEGAL", "法务部", "400-000-5100 转 4", "合同与交付风险审核；营销物料法务审核；纠纷与赔付审批。"),
    ("MKT", "营销部", "400-000-5100 转 5", "案场接待、签约与准业主沟通；营销物料与不利因素公示。"),
    ("QA", "质量管理部", "400-000-5100 转 6", "缺陷库与整改跟踪；交付风险表；部门质量评分。"),
    ("DESIGN", "设计部", "400-000-5100 转 7", "户型与交付标准答疑；设计类缺陷的原因分析与预防。"),
    ("FIN", "财务部", "400-000-5100 转 8", "质保金与维修费用结算；延期交付违约金测算。"),
)

# (name, trade codes, contact, deposit in yuan, cities served or "*" for every demo project,
#  active, remark)
CONTRACTORS = (
    ("浙江恒筑建设工程有限公司", ("civil",), "周建国", 2_000_000, ("杭州",), True, ""),
    ("杭州清源水电安装有限公司", ("plumbing_electrical",), "陈志强", 300_000, ("杭州",), True, ""),
    ("杭州固泰防水工程有限公司", ("waterproofing",), "许海峰", 200_000, ("杭州",), True, ""),
    ("四川蜀建工程集团有限公司", ("civil", "plumbing_electrical"), "李永红", 2_500_000, ("成都",), True, ""),
    ("成都锦窗门窗幕墙有限公司", ("doors_windows",), "黄德明", 400_000, ("成都",), True, ""),
    ("成都雨晴防水材料有限公司", ("waterproofing",), "杨丽", 150_000, ("成都",), False,
     "2025年因维修超时两次，暂停合作"),
    ("安居精装修工程有限公司", ("fit_out",), "王晓燕", 1_200_000, "*", True, ""),
    ("华通电梯工程有限公司", ("lifts",), "刘振宇", 800_000, "*", True, "电梯困人 24 小时响应"),
    ("安消消防工程有限公司", ("fire",), "赵立新", 500_000, "*", True, ""),
    ("绿庭园林景观工程有限公司", ("landscaping",), "吴佳慧", 250_000, "*", True, ""),
    ("智联弱电智能化工程有限公司", ("low_voltage",), "孙浩", 300_000, "*", True, ""),
    ("温暖暖通空调安装有限公司", ("hvac", "gas"), "郑凯", 350_000, "*", True, ""),
)

# --- Names --------------------------------------------------------------------------------------

# Common surnames, most frequent first; a few compound ones at the end, rarely drawn.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "上官", "司马", "诸葛", "慕容")
SURNAME_WEIGHTS = tuple(1 / (rank + 4) for rank in range(len(SURNAMES)))

MALE_FIRST = "建志国俊文明永海晓子浩宇家嘉振天伟立德承思一博泽睿春卫红金新长"
MALE_SECOND = "华强伟军平东明辉杰峰涛斌磊鹏飞宇轩然航铭阳凯林超勇波刚诚亮毅龙"
FEMALE_FIRST = "丽秀晓静美雅欣思雨梦佳子诗婉慧春玉海淑艳文小月凤彩红"
FEMALE_SECOND = "芳华娟敏静婷丽燕霞琳颖怡萱涵琪悦洁雯蕾娜玲红梅兰英萍倩莉琴"

# (layout, base area) per position on a floor, by units per floor.
LAYOUTS = {
    2: (("四室两厅两卫", Decimal("143")), ("三室两厅两卫", Decimal("128"))),
    3: (("三室两厅两卫", Decimal("118")), ("两室两厅一卫", Decimal("89")), ("三室两厅一卫", Decimal("99"))),
    4: (
        ("三室两厅两卫", Decimal("125")),
        ("两室两厅一卫", Decimal("79")),
        ("两室一厅一卫", Decimal("72")),
        ("三室两厅一卫", Decimal("98")),
    ),
}


def demo_mobile(index):
    """A distinct 154 number for each index below 10**8 (an affine bijection mod 10**8)."""
    return f"{DEMO_MOBILE_PREFIX}{(index * 48271 + 10_382_917) % 100_000_000:08d}"


def person(rng, male):
    if rng.random() < 0.01:
        surname = rng.choice(COMPOUND_SURNAMES)
    else:
        surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    first, second = (MALE_FIRST, MALE_SECOND) if male else (FEMALE_FIRST, FEMALE_SECOND)
    if rng.random() < 0.35:
        return surname + rng.choice(second)
    return surname + rng.choice(first) + rng.choice(second)


def id_number(rng, region, birth_year, male):
    """A synthetic 18-character ID number with a correct GB 11643 check digit."""
    birthday = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
    seq = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    body = f"{region}{birthday:%Y%m%d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS))
    return body + ID_CHECK_CHARS[total % 11]


# --- The plan -----------------------------------------------------------------------------------


@dataclass
class Plan:
    projects: list = field(default_factory=list)  # ProjectSpec
    buildings: list = field(default_factory=list)  # (project code, BuildingSpec)
    # (project code, building code, entrance, floor, number, area, layout, batch, status, date)
    units: list = field(default_factory=list)
    owners: list = field(default_factory=list)  # (mobile, name, id number or "")
    # (mobile, project code, building code, entrance, number, start, is_primary)
    ownerships: list = field(default_factory=list)


def extra_projects():
    """The projects after the small two, without end (large plans take what they need)."""
    hotlines = itertools.count(5101 + len(SMALL_PROJECTS))
    for phase_no, phase in enumerate(PHASES):
        for code, name, city, address, regions in EXTRA_PROJECTS:
            if phase:
                code, name = f"{code}-{phase_no + 1}", f"{name}{phase}"
            rng = random.Random(f"anju-demo:{code}")
            sales_open = date(2022, 3, 1) + timedelta(days=rng.randrange(900))
            first = sales_open + timedelta(days=rng.randrange(540, 900))
            batches = [
                BatchSpec(label, first + timedelta(days=offset), rng.uniform(0.7, 0.97))
                for label, offset in (("第一批", 0), ("第二批", rng.randrange(180, 400)),
                                      ("第三批", rng.randrange(420, 700)))
            ]
            numbers = (n for n in itertools.count(1) if n not in (4, 13, 14))
            count = rng.randint(26, 34)
            buildings = []
            for position, number in zip(range(count), numbers):
                batch = batches[min(2, position * 3 // count)]
                kind = rng.random()
                if kind < 0.15:  # 洋房
                    spec = _b(number, 11, rng.choice((1, 2)), 2, batch)
                elif kind < 0.3:  # 小高层
                    spec = _b(number, 18, 2, 3, batch)
                else:  # 高层
                    spec = _b(number, rng.choice((26, 28, 30, 32, 33, 34)), rng.choice((2, 2, 3)),
                              rng.choice((2, 3, 4, 4)), batch)
                buildings.append(spec)
            yield ProjectSpec(code, name, city, address, f"400-000-{next(hotlines):04d}",
                              sales_open, regions, tuple(buildings))


def all_projects():
    yield from SMALL_PROJECTS
    yield from extra_projects()


def build_plan(target_units):
    """The first ``target_units`` units of the demo stream, with their owners."""
    plan = Plan()
    next_owner = 0  # global owner index: owners are numbered in stream order
    used_ids = set()
    for project in all_projects():
        if len(plan.units) >= target_units:
            break
        plan.projects.append(project)
        for building in project.buildings:
            remaining = target_units - len(plan.units)
            if remaining <= 0:
                break
            plan.buildings.append((project.code, building))
            units, owners, ownerships = _building_rows(project, building, next_owner, used_ids)
            next_owner += len(owners)
            if len(units) > remaining:  # the last building is cut short: keep its prefix
                units = units[:remaining]
                kept = {(u[2], u[4]) for u in units}
                ownerships = [o for o in ownerships if (o[3], o[4]) in kept]
                mobiles = {o[0] for o in ownerships}
                owners = [o for o in owners if o[0] in mobiles]
            plan.units.extend(units)
            plan.owners.extend(owners)
            plan.ownerships.extend(ownerships)
    return plan


def _building_rows(project, building, first_owner, used_ids):
    rng = random.Random(f"anju-demo:{project.code}:{building.code}")
    batch = building.batch
    layouts = [
        (layout, base + Decimal(rng.randrange(-300, 301)) / 100)
        for layout, base in LAYOUTS[building.per_floor]
    ]
    sign_days = max(30, (batch.start - timedelta(days=90) - project.sales_open).days)
    units, owners, ownerships = [], [], []
    building_owners = []  # mobiles of the primary owners so far, for repeat buyers

    def new_owner(male, birth_year):
        local = rng.random() < 0.7
        region = rng.choice(project.region_codes if local else OTHER_REGION_CODES)
        number = ""
        if rng.random() < 0.88:
            number = id_number(rng, region, birth_year, male)
            while number in used_ids:
                number = id_number(rng, region, birth_year, male)
            used_ids.add(number)
        mobile = demo_mobile(first_owner + len(owners))
        owners.append((mobile, person(rng, male), number))
        return mobile

    entrances = [str(e) for e in range(1, building.entrances + 1)] if building.entrances > 1 else [""]
    for entrance in entrances:
        for floor in range(1, building.floors + 1):
            for position, (layout, area) in enumerate(layouts, start=1):
                number = f"{floor}{position:02d}"
                sold_ratio = batch.sold_ratio - (0.12 if floor <= 2 else 0)
                sold = rng.random() < sold_ratio
                status, handed = HandoverStatus.PENDING.value, None
                if sold and batch.mode != "upcoming":
                    status, handed = _handover(rng, batch)
                units.append((project.code, building.code, entrance, floor, number, area, layout,
                              batch.name, status, handed))
                if not sold:
                    continue
                start = project.sales_open + timedelta(days=rng.randrange(sign_days))
                if building_owners and rng.random() < 0.02:
                    mobile = rng.choice(building_owners)  # bought a second home here
                else:
                    male = rng.random() < 0.55
                    birth_year = rng.randint(1962, 1998)
                    mobile = new_owner(male, birth_year)
                    building_owners.append(mobile)
                    if rng.random() < 0.3:  # spouse on the deed too
                        spouse = new_owner(not male, birth_year + rng.randint(-3, 3))
                        ownerships.append((spouse, project.code, building.code, entrance, number,
                                           start, False))
                ownerships.append((mobile, project.code, building.code, entrance, number, start,
                                   True))
    return units, owners, ownerships


def _handover(rng, batch):
    r = rng.random()
    if batch.mode == "done":
        if r < 0.94:
            days = min(rng.randrange(45), rng.randrange(45))  # most come in the first days
            return HandoverStatus.HANDED_OVER.value, batch.start + timedelta(days=days)
        if r < 0.96:
            return HandoverStatus.REFUSED.value, None
        return HandoverStatus.PENDING.value, None
    window = max(1, (AS_OF - batch.start).days)
    if r < 0.6:
        days = min(rng.randrange(window), rng.randrange(window))
        return HandoverStatus.HANDED_OVER.value, batch.start + timedelta(days=days)
    if r < 0.8:
        return HandoverStatus.SCHEDULED.value, None
    if r < 0.83:
        return HandoverStatus.REFUSED.value, None
    return HandoverStatus.PENDING.value, None


# --- Writing --------------------------------------------------------------------------------------


def _bulk(model, objs, now):
    """Create ``objs`` with one history row each, in chunks; returns them with their pks."""
    created = []
    for start in range(0, len(objs), CHUNK):
        created.extend(
            bulk_create_with_history(
                objs[start:start + CHUNK],
                model,
                batch_size=BATCH_SIZE,
                default_change_reason=CHANGE_REASON,
                default_date=now,
            )
        )
    return created


class Seeder:
    def __init__(self, plan):
        self.plan = plan
        self.now = timezone.now()
        self.created = {}

    def run(self):
        self.departments()
        projects = self.projects()
        buildings = self.buildings(projects)
        units = self.units(projects, buildings)
        owners = self.owners()
        self.ownerships(projects, buildings, units, owners)
        self.contractors(projects)
        return self.created

    def departments(self):
        existing = set(Department.objects.values_list("code", flat=True))
        new = [
            Department(code=code, name=name, phone=phone, description=description)
            for code, name, phone, description in DEPARTMENTS
            if code not in existing
        ]
        self.created[Department] = len(_bulk(Department, new, self.now))

    def projects(self):
        codes = [p.code for p in self.plan.projects]
        existing = dict(Project.objects.filter(code__in=codes).values_list("code", "id"))
        new = [
            Project(code=p.code, name=p.name, city=p.city, address=p.address, hotline=p.hotline,
                    service_plan=p.service_plan())
            for p in self.plan.projects
            if p.code not in existing
        ]
        for project in _bulk(Project, new, self.now):
            existing[project.code] = project.pk
        self.created[Project] = len(new)
        return existing

    def buildings(self, projects):
        existing = {
            (project_id, code): pk
            for pk, project_id, code in Building.objects.filter(
                project_id__in=projects.values()
            ).values_list("id", "project_id", "code")
        }
        new = []
        for project_code, spec in self.plan.buildings:
            key = (projects[project_code], spec.code)
            if key not in existing:
                new.append(Building(project_id=key[0], code=spec.code, name=f"{spec.code}号楼",
                                    floors=spec.floors))
        for building in _bulk(Building, new, self.now):
            existing[(building.project_id, building.code)] = building.pk
        self.created[Building] = len(new)
        return existing

    def units(self, projects, buildings):
        existing = {
            (building_id, entrance, number): pk
            for pk, building_id, entrance, number in Unit.objects.filter(
                project_id__in=projects.values()
            ).values_list("id", "building_id", "entrance", "number")
        }
        new = []
        for (project_code, building_code, entrance, floor, number, area, layout, batch, status,
             handed) in self.plan.units:
            project_id = projects[project_code]
            building_id = buildings[(project_id, building_code)]
            if (building_id, entrance, number) in existing:
                continue
            new.append(Unit(
                building_id=building_id, project_id=project_id, entrance=entrance, floor=floor,
                number=number, label=Unit.make_label(building_code, entrance, number), area=area,
                layout=layout, delivery_batch=batch, handover_status=status, handover_date=handed,
            ))
        for unit in _bulk(Unit, new, self.now):
            existing[(unit.building_id, unit.entrance, unit.number)] = unit.pk
        self.created[Unit] = len(new)
        return existing

    def owners(self):
        existing = dict(
            Owner.objects.filter(mobile__startswith=DEMO_MOBILE_PREFIX)
            .order_by("-id")  # with duplicates, the oldest row wins in the dict
            .values_list("mobile", "id")
        )
        can_hash = bool(settings.ID_HASH_KEY)
        new = []
        for mobile, name, number in self.plan.owners:
            if mobile in existing:
                continue
            if number and can_hash:
                new.append(Owner(name=name, mobile=mobile, id_hash=hash_id_number(number),
                                 id_last4=number[-4:]))
            else:
                new.append(Owner(name=name, mobile=mobile))
        for owner in _bulk(Owner, new, self.now):
            existing[owner.mobile] = owner.pk
        self.created[Owner] = len(new)
        return existing

    def ownerships(self, projects, buildings, units, owners):
        existing = set(
            Ownership.objects.filter(unit__project_id__in=projects.values()).values_list(
                "owner_id", "unit_id"
            )
        )
        new = []
        for mobile, project_code, building_code, entrance, number, start, primary in (
            self.plan.ownerships
        ):
            building_id = buildings[(projects[project_code], building_code)]
            unit_id = units[(building_id, entrance, number)]
            owner_id = owners[mobile]
            if (owner_id, unit_id) in existing:
                continue
            existing.add((owner_id, unit_id))
            new.append(Ownership(owner_id=owner_id, unit_id=unit_id, start=start,
                                 is_primary=primary))
        _bulk(Ownership, new, self.now)
        self.created[Ownership] = len(new)

    def contractors(self, projects):
        cities = {p.code: p.city for p in self.plan.projects}
        trades = dict(Trade.objects.values_list("code", "id"))
        existing = {c.name: c for c in Contractor.objects.filter(
            name__in=[row[0] for row in CONTRACTORS])}
        new = []
        for index, (name, _codes, contact, deposit, _serves, active, remark) in enumerate(
            CONTRACTORS
        ):
            if name not in existing:
                new.append(Contractor(
                    name=name, contact_name=contact, contact_mobile=demo_mobile(90_000_000 + index),
                    warranty_deposit=Decimal(deposit), active=active, remark=remark,
                ))
        for contractor in _bulk(Contractor, new, self.now):
            existing[contractor.name] = contractor
        self.created[Contractor] = len(new)

        # Trades and projects served: add only the links that are missing (the m2m history
        # rows come from simple-history's m2m_changed receiver, with the same reason).
        trade_links = set(Contractor.trades.through.objects.filter(
            contractor_id__in=[c.pk for c in existing.values()]).values_list(
            "contractor_id", "trade_id"))
        project_links = set(Contractor.projects.through.objects.filter(
            contractor_id__in=[c.pk for c in existing.values()]).values_list(
            "contractor_id", "project_id"))
        added = 0
        for name, codes, _contact, _deposit, serves, _active, _remark in CONTRACTORS:
            contractor = existing[name]
            contractor._change_reason = CHANGE_REASON
            want_trades = [trades[c] for c in codes if c in trades]
            missing = [t for t in want_trades if (contractor.pk, t) not in trade_links]
            if missing:
                contractor.trades.add(*missing)
                added += len(missing)
            want_projects = [
                pk for code, pk in projects.items() if serves == "*" or cities[code] in serves
            ]
            missing = [p for p in want_projects if (contractor.pk, p) not in project_links]
            if missing:
                contractor.projects.add(*missing)
                added += len(missing)
        self.created["contractor links"] = added


class Command(BaseCommand):
    help = "生成演示数据：项目、楼栋、房号、业主、产权关系、部门和施工单位（可重复运行）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            choices=("small", "large"),
            default="small",
            help=f"small：2 个项目约 {SMALL_UNITS:,} 套房号；large：共 {LARGE_UNITS:,} 套房号（用于性能测试）。",
        )
        # For tests: the first N units of the demo stream.
        parser.add_argument("--units", type=int, default=None, help=argparse.SUPPRESS)
        parser.add_argument(
            "--registry-only", action="store_true", help="只生成楼盘档案，不生成门户页面和内容。"
        )

    def handle(self, *args, size, units, **options):
        started = time.monotonic()
        target = units if units is not None else (LARGE_UNITS if size == "large" else SMALL_UNITS)
        if target < 1:
            raise CommandError("--units 必须大于 0。")
        plan = build_plan(target)
        if not settings.ID_HASH_KEY:
            self.stderr.write("未设置 ID_HASH_KEY：业主的身份证号摘要和后四位将留空。")
        with transaction.atomic():
            created = Seeder(plan).run()
        if not options.get("registry_only"):
            from home.demo import seed_portal

            seed_portal(stdout=self.stdout if options["verbosity"] >= 1 else None)
            # Plugins add theirs through the framework; core never imports a plugin.
            from plugins.registry import enabled_plugins

            for plugin in enabled_plugins():
                plugin.seed_demo(size=size, stdout=self.stdout if options["verbosity"] >= 1 else None)
        elapsed = time.monotonic() - started
        if options["verbosity"] < 1:
            return
        rows = (
            ("项目", len(plan.projects), created[Project]),
            ("楼栋", len(plan.buildings), created[Building]),
            ("房号", len(plan.units), created[Unit]),
            ("业主", len(plan.owners), created[Owner]),
            ("产权关系", len(plan.ownerships), created[Ownership]),
            ("部门", len(DEPARTMENTS), created[Department]),
            ("施工单位", len(CONTRACTORS), created[Contractor]),
        )
        label = {"small": "小规模", "large": "大规模"}[size] if units is None else f"前 {target:,} 套"
        self.stdout.write(f"演示数据（{label}）：")
        for name, total, new in rows:
            self.stdout.write(f"  {name} {total:,}（本次新增 {new:,}）")
        verdict = "已全部存在，未新增任何数据" if not any(created.values()) else "已生成"
        self.stdout.write(self.style.SUCCESS(f"{verdict}，用时 {elapsed:.1f} 秒。"))
