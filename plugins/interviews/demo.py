"""Demo owner interviews for ``seed_demo`` (PortalPlugin.seed_demo).

small: six demo staff (no password: nobody signs in as them) in the case desk's roles, serving
the first two demo projects, and about 60 interviews over the past year through the real
service, a third with findings; when the case desk is enabled a few findings are raised as cases
through the real one-click raise. Each person is at a different pace, so the dashboard has
someone ahead, someone on track and someone behind.

large: on top, 200 more demo staff (one project each, in turn) and 2,400 interviews with their
findings, bulk-created with their history rows; none raised.

Idempotent: a part whose demo staff already have interviews is skipped, and existing rows are
never changed. Mobiles use the segment 154, which no carrier has: valid, reaching nobody.
"""

import datetime as dt
import random

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from estates.models import Ownership, Project, StaffProfile

from . import services
from .models import Finding, Interview, Method

CHANGE_REASON = "演示数据"

AGENT, DISPATCHER, QUALITY, MANAGER = "呼叫中心坐席", "派单员", "质量经理", "客服经理"

#: (username, name, group, mobile, interviews in the past year)
SMALL_STAFF = [
    ("demo_linxiaoyan", "林晓燕", AGENT, "15400000101", 14),
    ("demo_chenzhiqiang", "陈志强", AGENT, "15400000102", 12),
    ("demo_wangli", "王丽", DISPATCHER, "15400000103", 9),
    ("demo_zhangwei", "张伟", QUALITY, "15400000104", 10),
    ("demo_liufang", "刘芳", MANAGER, "15400000105", 8),
    ("demo_huanglei", "黄磊", MANAGER, "", 7),
]
#: The manager who raises the demo's findings as cases (客服经理 may register cases).
RAISER = "demo_liufang"
RAISED = 4

LARGE_STAFF = 200
LARGE_INTERVIEWS = 2400
LARGE_PREFIX = "demo_kf"

TOPICS = [
    "入住体验", "物业服务", "公共设施", "装修管理", "交付质量回访", "社区活动", "停车与出行", "安全管理",
    "绿化与环境", "邻里与噪音",
]
SUMMARIES = [
    "业主对园区绿化和保洁总体满意，希望增加儿童游乐设施。",
    "业主反映快递柜数量不足，高峰时段取件排队。",
    "业主对交付时的验房服务评价较好，希望维修响应再快一些。",
    "业主关心周边学校配套的落地时间，已解释当前进展。",
    "业主对物业费标准有疑问，已说明收费依据和公示位置。",
    "业主建议在地下车库增设充电桩，已记录并转相关部门评估。",
    "业主家中老人行动不便，希望单元门口增加扶手。",
    "业主对小区夜间照明和巡逻表示认可。",
    "业主对装修管理规定提出疑问，已讲解装修申报流程。",
    "业主整体满意，暂无其他诉求。",
]
#: (kind, text, category hint): hints are the case desk's category names where one fits.
FINDINGS = [
    ("repair", "主卧窗户密封条老化，下雨时窗台渗水。", "门窗"),
    ("repair", "卫生间地漏返味，已持续两周。", "给排水"),
    ("repair", "入户门锁芯卡顿，早晚开门很费劲。", "门窗"),
    ("repair", "地下车库 B1 区有三盏灯不亮，夜里很暗。", "公区照明"),
    ("repair", "客厅墙面出现几条细小裂缝，业主担心是结构问题。", "墙地面"),
    ("repair", "阳台顶部有水渍，怀疑楼上防水有问题。", "渗漏水"),
    ("complaint", "小区东门门禁经常失灵，外来人员随意进出。", "设施设备"),
    ("complaint", "物业前台接待态度冷淡，咨询问题被来回推诿。", "服务态度"),
    ("complaint", "交付时承诺的归家大堂精装至今未完成。", "承诺兑现"),
    ("enquiry", "想了解不动产权证的办理时间和所需材料。", "办证"),
    ("enquiry", "询问装修押金的退还条件和流程。", "装修"),
    ("enquiry", "想知道车位租赁到期后如何续约。", "其他咨询"),
]
METHODS = [Method.VISIT, Method.VISIT, Method.PHONE, Method.PHONE, Method.WALK_IN, Method.OTHER]


def seed_interviews(size="small", stdout=None):
    """The demo interviews; ``size="large"`` adds the bulk part. Returns how many were added."""
    projects = list(Project.objects.filter(units__isnull=False).distinct().order_by("code"))
    if not projects:
        return 0
    made = _seed_small(projects[:2], stdout)
    if size == "large":
        made += _seed_large(projects, stdout)
    return made


def _owned_units(project_ids, limit):
    """(project id, unit, owner) of current ownerships, ``limit`` per project at most."""
    rows = []
    for project_id in project_ids:
        rows.extend(
            (project_id, ownership.unit, ownership.owner)
            for ownership in Ownership.objects.filter(end__isnull=True, unit__project_id=project_id)
            .select_related("unit", "owner").order_by("unit__label", "pk")[:limit]
        )
    return rows


def _staff(username, name, group_name, mobile, projects):
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": name, "is_staff": True, "email": ""})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        group = Group.objects.filter(name=group_name).first()
        if group is not None:
            user.groups.add(group)
    profile, created = StaffProfile.objects.get_or_create(user=user, defaults={"mobile": mobile})
    if created:
        profile.projects.set(projects)
    return user


def _seed_small(projects, stdout):
    staff = [_staff(username, name, group, mobile, projects) for username, name, group, mobile, _n in SMALL_STAFF]
    if Interview.objects.filter(interviewer__in=staff).exists():
        return 0
    owned = _owned_units([project.pk for project in projects], 200)
    if not owned:
        return 0
    by_pk = {project.pk: project for project in projects}
    rng = random.Random(2026)
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for user, (_username, _name, _group, _mobile, count) in zip(staff, SMALL_STAFF):
            for _ in range(count):
                project_id, unit, owner = rng.choice(owned)
                findings = [rng.choice(FINDINGS) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
                store = services.log_interview if services.may_log(user) else services.store_interview
                store(
                    user, project=by_pk[project_id], unit=unit,
                    # Some conversations are about the unit only (the owner was not there).
                    owner=owner if rng.random() < 0.85 else None,
                    date=today - dt.timedelta(days=rng.randrange(365)), method=rng.choice(METHODS),
                    topics="、".join(rng.sample(TOPICS, rng.choice((1, 2)))), summary=rng.choice(SUMMARIES),
                    findings=findings,
                )
                made += 1
    raised = _raise_some([user for user in staff if user.username == RAISER])
    if stdout is not None:
        stdout.write(f"业主访谈：{made} 次（{len(staff)} 位演示员工），其中 {raised} 个问题已转为工单")
    return made


def _raise_some(raisers):
    """A few findings raised as cases through the one-click raise, when the case desk is on."""
    if not raisers or not services.can_raise_findings():
        return 0
    raiser = raisers[0]
    done = 0
    candidates = (Finding.objects.filter(interview__interviewer__username__startswith="demo_", case_reference="")
                  .exclude(interview__interviewer__username__startswith=LARGE_PREFIX).order_by("pk"))
    for finding in candidates[: RAISED * 3]:
        if done >= RAISED:
            break
        try:
            services.raise_finding(finding, raiser)
        except ValidationError:
            continue  # e.g. the demo manager's group was removed: leave it unraised
        done += 1
    return done


def _seed_large(projects, stdout):
    if Interview.objects.filter(interviewer__username__startswith=LARGE_PREFIX).exists():
        return 0
    owned = _owned_units([project.pk for project in projects], 300)
    if not owned:
        return 0
    rng = random.Random(4096)
    group = Group.objects.filter(name=AGENT).first()
    with transaction.atomic():
        users = []
        for n in range(1, LARGE_STAFF + 1):
            user = User(username=f"{LARGE_PREFIX}{n:03d}", first_name=f"演示客服{n:03d}", is_staff=True)
            user.set_unusable_password()
            users.append(user)
        existing = set(User.objects.filter(username__startswith=LARGE_PREFIX).values_list("username", flat=True))
        User.objects.bulk_create([user for user in users if user.username not in existing])
        users = list(User.objects.filter(username__startswith=LARGE_PREFIX).order_by("username"))
        with_profile = set(StaffProfile.objects.filter(user__in=users).values_list("user_id", flat=True))
        new = [user for user in users if user.pk not in with_profile]
        profiles = StaffProfile.objects.bulk_create([StaffProfile(user=user) for user in new])
        StaffProfile.projects.through.objects.bulk_create([
            StaffProfile.projects.through(staffprofile_id=profile.pk,
                                          project_id=projects[(int(profile.user.username[-3:]) - 1) % len(projects)].pk)
            for profile in profiles
        ])
        if group is not None:
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=user.pk, group_id=group.pk) for user in new], ignore_conflicts=True)
        by_project = {}
        for project_id, unit, owner in owned:
            by_project.setdefault(project_id, []).append((unit, owner))
        today = timezone.localdate()
        now = timezone.now()
        interviews, planned_findings = [], []
        for n in range(LARGE_INTERVIEWS):
            user = users[n % len(users)]
            project = projects[(int(user.username[-3:]) - 1) % len(projects)]
            choices = by_project.get(project.pk) or next(iter(by_project.values()))
            unit, owner = rng.choice(choices)
            interviews.append(Interview(
                interviewer=user, project_id=unit.project_id, unit=unit, owner=owner,
                date=today - dt.timedelta(days=rng.randrange(365)), method=rng.choice(METHODS),
                topics=rng.choice(TOPICS), summary=rng.choice(SUMMARIES), created_at=now,
            ))
            planned_findings.append(rng.choice(FINDINGS) if rng.random() < 0.25 else None)
        interviews = bulk_create_with_history(interviews, Interview, batch_size=500,
                                              default_change_reason=CHANGE_REASON)
        if interviews and interviews[0].pk is None:  # a backend that returns no ids
            interviews = list(Interview.objects.filter(interviewer__in=users).order_by("pk"))
        findings = [Finding(interview=interview, kind=kind, text=text, category_hint=hint)
                    for interview, planned in zip(interviews, planned_findings) if planned
                    for kind, text, hint in [planned]]
        bulk_create_with_history(findings, Finding, batch_size=500, default_change_reason=CHANGE_REASON)
    if stdout is not None:
        stdout.write(f"业主访谈（大规模）：{len(interviews)} 次，{len(users)} 位演示员工")
    return len(interviews)
