"""Demo cases for ``seed_demo``: repairs, complaints and enquiries in every state, written fresh
and driven through the real verbs, so their timelines and history are what staff would see.

Idempotent: each demo case carries ``source = "demo:<n>"``; a second run adds nothing.

The small demo adds three years of history after them (``HISTORY_CASES``, written in bulk by the
large demo's generator with ``source = "demo-history:<n>"``), so the manager dashboard has
months, contractors and categories to compare; the dashboard's roll-ups are then built and
yesterday's complaint digest published.

``size="large"`` adds, after these, the large demo's 1,000,000 cases (plugins/cases/demo_large.py;
``ANJU_DEMO_CASES`` sets another count).
"""

import datetime as dt
import random
import time

from django.db import transaction
from django.utils import timezone

from estates.models import Contractor, Department, Project, Unit

from . import digest, rollups, services
from .models import Case, Category, Status
from .services import Actor

# (kind, category code, channel, reporter, description, the path of verbs it has been through)
STORIES = [
    ("repair", "daily-waterproofing", "hotline", "王女士", "主卫天花板有水渍，楼上卫生间可能渗漏，墙角已发霉。", "closed"),
    ("repair", "daily-plumbing", "web", "李先生", "厨房水槽下水慢，疏通后两天又堵。", "signed_off"),
    ("repair", "daily-doors-windows", "qr", "陈女士", "客厅推拉窗关不严，下雨时窗台进水。", "completed"),
    ("repair", "daily-electrical", "hotline", "赵先生", "次卧两个插座没电，空开没有跳闸。", "in_progress"),
    ("repair", "daily-walls-floors", "walk_in", "孙女士", "餐厅地砖空鼓，踩上去有响声，约四块。", "dispatched"),
    ("repair", "public-lift", "property", "物业前台", "2 号楼 1 单元电梯门关闭时有异响。", "accepted"),
    ("repair", "public-lighting", "web", "周先生", "地下车库 B2 区十余盏灯不亮，夜间很暗。", "registered"),
    ("repair", "emergency-water", "hotline", "吴女士", "厨房进水管爆裂，水已漫到客厅，已关总阀。", "in_progress"),
    ("repair", "daily-fittings", "hotline", "郑先生", "马桶水箱一直流水，换过配件仍然漏。", "paused_owner"),
    ("repair", "daily-waterproofing", "web", "冯女士", "阳台外墙渗水，墙面涂料起皮。", "third_party"),
    ("repair", "public-landscape", "qr", "褚先生", "小区中庭喷泉水泵不工作，水面有异味。", "rejected"),
    ("repair", "daily-plumbing", "hotline", "卫女士", "热水器出水忽冷忽热，燃气公司说是管路问题。", "low_score"),
    ("complaint", "complaint-quality", "hotline", "蒋先生", "交房三个月内同一处渗水报修三次仍未修好，要求给出整改方案。", "closed"),
    ("complaint", "complaint-attitude", "walk_in", "沈女士", "维修师傅上门态度恶劣，未穿鞋套，地板被划伤。", "accepted"),
    ("complaint", "complaint-fees", "hotline", "韩先生", "物业费按建筑面积收取，与合同约定的套内面积不符。", "dispatched"),
    ("complaint", "complaint-promise", "web", "杨女士", "销售承诺的小区东门至今未开通，孩子上学要绕行。", "registered"),
    ("complaint", "complaint-facilities", "hotline", "朱先生", "地下车库充电桩安装申请两个月无人回复。", "escalated"),
    ("enquiry", "enquiry-certificate", "hotline", "秦女士", "不动产权证什么时候可以办理？需要准备哪些材料？", "closed"),
    ("enquiry", "enquiry-handover", "web", "尤先生", "交付时能否委托家人代为收房？需要什么手续？", "accepted"),
    ("enquiry", "enquiry-decoration", "qr", "许女士", "装修可以改动厨房的燃气管道位置吗？", "registered"),
    ("enquiry", "enquiry-fees", "hotline", "何先生", "首年物业费和装修押金可以分开缴纳吗？", "cancelled"),
]


#: The small demo's history: cases over the last three years, generated in bulk.
HISTORY_CASES = 3000
HISTORY_PREFIX = "demo-history:"


def seed_cases(stdout=None, size="small"):
    """The demo cases; for ``size="large"`` the large demo's cases too. Returns how many story
    cases were added."""
    from .demo_large import seed_large

    made = seed_stories(stdout=stdout)
    if size == "large":
        seed_large(stdout=stdout)
    else:
        # Three years of history in bulk (the large demo's generator, at a small size), so the
        # dashboard has months to compare, contractors to rank and a call-back desk with work.
        seed_large(count=HISTORY_CASES, stdout=stdout, prefix=HISTORY_PREFIX)
    # The bulk-written cases left no marks: the dashboard's roll-ups are built from scratch.
    started = time.monotonic()
    months = rollups.rebuild()
    if stdout is not None:
        stdout.write(f"指标汇总：{months} 个月，用时 {time.monotonic() - started:.1f} 秒")
    digest.seed_digest(stdout=stdout)  # yesterday's complaints, as published this morning
    return made


def seed_stories(stdout=None):
    if Case.objects.filter(source__startswith="demo:").exists():
        return 0
    projects = list(Project.objects.filter(units__isnull=False).distinct().order_by("code")[:2])
    if not projects:
        return 0
    rng = random.Random(2026)
    categories = {category.code: category for category in Category.objects.all()}
    engineering = Department.objects.filter(code="ENG").first()
    service = Department.objects.filter(code="CS").first()
    desk = Actor.system("客服中心（演示）")
    made = 0
    now = timezone.now()
    with transaction.atomic():
        for n, (kind, category_code, channel, reporter, description, path) in enumerate(STORIES, 1):
            project = projects[n % len(projects)]
            unit = Unit.objects.filter(project=project).order_by("pk")[rng.randrange(50)]
            contractors = list(Contractor.objects.filter(projects=project).order_by("name")[:3])
            case = services.register(
                desk, kind=kind, channel=channel, project=project, unit=unit,
                category=categories.get(category_code), reporter_name=reporter,
                reporter_mobile=f"139{rng.randrange(10**8):08d}", description=description,
                source=f"demo:{n}", when=now - dt.timedelta(hours=rng.randrange(2, 96)),
            )
            walk(case, path, desk, kind, contractors, engineering if kind == "repair" else service)
            made += 1
    if stdout is not None:
        stdout.write(f"演示工单：{made} 张（报修、投诉、咨询，覆盖各个状态）")
    return made


def walk(case, path, actor, kind, contractors, department):
    """Drive ``case`` through the verbs that lead to ``path``."""
    if path == "registered":
        return case
    if path == "cancelled":
        return services.cancel(case, actor, "业主来电表示已自行解决")
    case = services.accept(case, actor)
    if path == "accepted":
        return case
    if path == "escalated":
        return services.escalate(case, actor, "业主多次来电催办")
    contractor = contractors[0] if contractors and kind == "repair" else None
    case = services.dispatch(case, actor, department=department, contractor=contractor)
    if kind != "repair":
        if path == "closed":
            services.add_note(case, actor, "已与业主电话沟通，说明处理方案与时间表。", visible_to_owner=True)
            case = services.close(case, actor, "已答复业主并记录整改计划")
            return services.callback(case, actor, reached=True, score=4, remark="业主认可答复")
        return case
    if path == "dispatched":
        return case
    services.record_contact(case, actor, reached=True, note="已与业主约定上门时间")
    case = services.start(case, actor)
    if path == "in_progress":
        return case
    if path == "paused_owner":
        return services.pause(case, actor, "owner", note="业主出差，下周回来后再约")
    if path == "third_party" and len(contractors) > 1:
        return services.hand_to_third_party(case, actor, contractors[1], "原施工单位两次上门未修好")
    case = services.complete(case, actor, "已查明原因并修复，现场试水无异常")
    if path == "completed":
        return case
    owner = Actor.owner(case.reporter_name)
    if path == "rejected":
        return services.sign_off(case, owner, accepted=False, reason="水泵仍然时好时坏")
    case = services.sign_off(case, owner, accepted=True)
    if path == "signed_off":
        return case
    if path == "low_score":
        return services.callback(case, actor, reached=True, score=2, remark="维修后第三天再次出现问题")
    return services.callback(case, actor, reached=True, score=5, remark="业主对维修结果满意")


STATES_COVERED = {Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED,
                  Status.COMPLETED, Status.SIGNED_OFF, Status.CLOSED, Status.CANCELLED}
