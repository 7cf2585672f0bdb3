"""The case desk's large demo: ``seed_demo --size large`` adds 1,000,000 cases over the 100,000
units of the large registry, for benchmarks and for trying the desk at a developer's real scale.

What it writes
    About three years of cases ending now: repairs, complaints and enquiries in the proportions
    DOMAIN.md gives (daily repairs, public areas, emergencies; facilities, attitude and fee
    complaints), on units that were handed over (repairs) or sold (complaints, enquiries), more
    of them in a unit's first weeks after handover. Descriptions are composed from Chinese
    fragments per category (卫生间地漏返水, 客厅墙面开裂, …). Contractors come from the registry
    (the project's contractor with the category's trade), departments by kind and category.

    About 10 % of the cases are open (registered, accepted, dispatched, in progress, paused),
    the young ones at the stage their age allows and an older backlog stuck along the way; a
    few recent repairs wait for the owner's sign-off or the call-back; the rest are closed
    (cancelled about 3 %), with dispatched/completed/closed times in order and before now.

    Timeline: 1–10 events per case, about 5.8 on average, each step the services would have
    written with the data they write. A closed repair: register → dispatch → the contractor's
    call (``{"reached": true}``) → on site (where the policy times it: emergencies) → complete →
    sign-off (``{"accepted": true}``) → call-back (``{"reached": true, "score": 1–5, "reopened":
    false}``), which closes it; scores mostly 4–5. About 6 % of the repairs done are not fixed
    first time, as ``figures.FAILED`` counts them: handed to a third party (about 2.5 % of
    those with another contractor of the project to go to, one with the category's trade if
    the registry has one; ``third_party`` with ``{"contractor": id}``, the case's
    ``original_contractor`` set and ``contractor``/``dispatched_at`` the new one's), rejected
    at the sign-off (``{"accepted": false}``, back in progress and one level up, then done,
    signed and called back) or scored below ``LOW_SCORE`` at the call-back (``"reopened":
    true``, the same way round again). A closed complaint: register → accept → dispatch (90 %)
    → the department's reply → the answer to the owner → close → the call-back (scores 3–5) and
    the on-site re-check as far as now allows; a closed enquiry: register → accept → (dispatch)
    → answer → close. The case's status, ``completed_at`` (the last completion) and
    ``closed_at`` (cleared by a reopening) are the ones these steps leave. The actor is named
    as system (客服中心), owner or contractor: the registry has no staff users to name.

    Clocks: every case gets the clocks the real engine would have given it, open, closed or
    cancelled (about 3.2 rows per case: a routine repair's contact, resolution and call-back;
    a complaint's six; an enquiry's answer and resolution): its steps are replayed through
    ``clocks.EVENTS`` and the engine's own arithmetic (``_schedule``, ``_unpause``,
    ``next_sweep`` on the policies' targets and the real business calendars, working hours
    and holidays included), and what the sweep would have done up to now (reminders,
    breaches, escalations) is recorded on the clock and the case, so ``sweep_at`` holds only
    what is still to come and a sweep run right after the load has nothing to do. The only
    clocks still running on a closed case are a recent complaint's call-back and re-check.
    Timings are drawn so that most clocks are met and some are not (closed cases, 100,000
    generated: a repair's contact about 96 % on time, a complaint's answer about 96 %, a
    repair's resolution about 89 %). A case's escalation level is the one the replay ends
    with: a repeat starts at 1, a rejection or a low score raises it one level, the sweep to
    the highest level its clocks reached. The sweep's own timeline events and notices for
    those past steps are not written.

    Numbers: BX/TS/ZX + day + sequence in registration order, continuing any numbers already
    given that day; the ``CaseCounter`` rows are raised to the last number used, so the next
    ``services.register`` gets the next free number. Repeat repairs (same unit and category
    within the policy's window) point at the earlier case and start one level up, as
    ``services.register`` does. ``search_words`` is filled with ``plugins.cases.search.words_for``
    when that module exists (computed once per distinct description).

How it stays fast
    About 10 rows per case (the case, 5.8 events, 3.2 clocks). Rows are built as tuples and
    written in batches of 10,000 cases (the first of 1,000, so that the writer starts early)
    without going through the model: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, one
    transaction. From 50,000 cases the rows are built in a forked process while this one
    writes, the tables' plain indexes are dropped for the load and rebuilt after it (sorted
    builds), and cyclic garbage collection is off. The clock replay remembers what does not
    change a row: each day's working window, the rules of a verb for a kind and policy, and
    ``_schedule``'s result where starts share it (on a 24×7 calendar due, reminder and
    escalation lie the same time after any start; on a working calendar every start before the
    same next working moment gets the same times), the same rows as ``_schedule`` worked out
    for each clock. No history rows (bulk writes skip simple-history, STACK-NOTES §3) and no
    reference-index rows (the case viewset keeps none). The tables are analysed at the end
    (and vacuumed on PostgreSQL). On PostgreSQL the cases and clocks go in by binary COPY (the
    server reads timestamps instead of parsing them), and with the indexes the three tables'
    keys to the cases, policies and calendars are dropped for the load and checked by one join
    each after it (DeferredForeignKeys). Measured on the shared 2-core machine with nothing
    else running (bench/bench_cases.py, 2026-11-24): 1,000,000 cases in 174 s on SQLite (with
    the search triggers of migration 0006) and 142–149 s on PostgreSQL, the registry's 100,000
    units before them another 50 s or so. With other work on the machine SQLite took 19–33 s
    for 100,000 cases and about 3.6 minutes for 1,000,000.
    Deterministic: the same count, registry and ``now`` give the same cases, whether built
    here or in the forked process.

Idempotent: every case carries ``source = "demo-large:<n>"``; when the first one exists the
run adds nothing. ``ANJU_DEMO_CASES`` (or ``count=``) sets a smaller number, e.g. 2,000 for tests.
"""

import bisect
import datetime as dt
import gc
import multiprocessing
import math
import os
import random
import time
import traceback
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from queue import Empty
from statistics import NormalDist
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from estates.models import Contractor, Department, Ownership, Unit

from .calendars import WorkingTime
from .clocks import EVENTS, _pending, _schedule, _unpause, next_sweep
from .models import (
    ActorType,
    Case,
    CaseClock,
    CaseCounter,
    CaseEvent,
    Category,
    Channel,
    ClockKind,
    ComplaintGrade,
    Kind,
    PauseReason,
    Priority,
    SLAPolicy,
    Status,
    WorkCalendar,
)
from .models.choices import PAUSING_REASONS
from .services import LOW_SCORE, MAX_ESCALATION

#: Bump when the generated data changes (benchmarks cache databases by it).
GENERATOR_VERSION = 2
DEFAULT_COUNT = 1_000_000
COUNT_ENV = "ANJU_DEMO_CASES"
SOURCE_PREFIX = "demo-large:"
SPAN_DAYS = 3 * 365
#: The share of cases still open.
OPEN_SHARE = 0.10
CANCEL_SHARE = 0.03
#: Repairs not fixed first time, about 6 % of those done: handed to a third party (of those with
#: another contractor to go to), rejected at the sign-off, scored below LOW_SCORE at the call-back.
THIRD_PARTY_SHARE = 0.025
REJECT_SHARE = 0.025
LOW_SHARE = 0.02
#: Call-back scores otherwise (repairs; complaints score lower but not below 3).
REPAIR_SCORES = ((5, 65), (4, 27), (3, 8))
COMPLAINT_SCORES = ((5, 40), (4, 38), (3, 22))
#: The call centre calls back a day or two after the sign-off (target: 3 working days from the
#: completion).
CALLBACK_MINUTES = 1.5 * 1440
#: Cases built and written per batch (bounds memory; the last batch is written after the
#: generator is done, the first before the writer can start: neither should be long).
CHUNK = 10_000
FIRST_CHUNK = 1_000
#: Distinct descriptions per case, roughly: a pool per category, drawn from again and again.
DESCRIPTIONS_PER_CASE = 1 / 25
MAX_DESCRIPTIONS = 40_000
DESK = "客服中心"
UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)


def case_count(default=DEFAULT_COUNT):
    """How many cases the large demo makes: ``ANJU_DEMO_CASES`` if set, else ``default``."""
    value = os.environ.get(COUNT_ENV, "").replace("_", "").replace(",", "").strip()
    if not value:
        return default
    count = int(value)
    if count < 1:
        raise ValueError(f"{COUNT_ENV} must be a positive number")
    return count


# --- Vocabulary -----------------------------------------------------------------------------------

WET_ROOMS = ("主卫", "次卫", "公卫", "厨房", "阳台")
ROOMS = ("客厅", "餐厅", "主卧", "次卧", "书房", "儿童房", "玄关", "过道", "衣帽间", "阳台")
LEAK_ROOMS = ("主卫", "次卫", "厨房", "阳台", "客厅", "主卧", "次卧", "书房")
KITCHEN_BATH = ("主卫", "次卫", "公卫", "厨房")
LIFTS = ("本单元", "1单元", "2单元", "东侧", "西侧")
PLACES = ("北门", "南门", "中庭", "儿童乐园旁", "3号楼前", "会所门口", "东侧步道", "地库出入口")
FLOORS = ("3楼", "6楼", "11楼", "17楼", "顶楼", "1楼大堂")
GARAGE = ("B1区", "B2区", "入口坡道", "负一层电梯厅旁", "负二层东侧")
FACADE = ("8楼附近", "高层", "单元门上方", "东侧山墙", "顶层")
SLOTS = {"r": ROOMS, "w": WET_ROOMS, "l": LEAK_ROOMS, "k": KITCHEN_BATH, "b": LIFTS, "p": PLACES,
         "f": FLOORS, "g": GARAGE, "x": FACADE}

OPENERS = ("今天早上发现", "昨晚开始", "最近一周", "入住以来", "这两天", "下雨后", "上周末", "刚收房就发现",
           "装修时发现", "前天开始")
REPAIR_CLOSERS = ("请尽快安排师傅上门。", "白天家里有人，下午方便上门。", "工作日晚上6点后在家。",
                  "上门前请先电话联系。", "之前报过一次，一直没人来。", "家里有老人小孩，希望尽快处理。",
                  "周末上午方便。", "钥匙在物业前台，可以直接上门。")
COMPLAINT_CLOSERS = ("要求给出书面整改方案。", "希望公司领导重视。", "已经向住建部门反映。",
                     "如果再不处理将联合其他业主投诉。", "要求赔偿损失。", "希望尽快给个说法。")
ENQUIRY_CLOSERS = ("麻烦回个电话。", "谢谢。", "请短信告知。", "周末也可以联系我。")

# category code → (problems with {slot}s, details). Repairs read "opener + problem，detail。closer".
FRAGMENTS = {
    "daily-plumbing": (
        ("{w}地漏返水", "{w}下水很慢，疏通后没几天又堵", "{w}水龙头关不紧一直滴水", "{w}角阀漏水",
         "{w}墙里的水管有滴水声", "{w}洗手盆下水管接口渗水", "{w}马桶冲水无力", "{w}下水道有异味返上来",
         "{w}热水出水很小", "水表后面的阀门拧不动"),
        ("地面积了一层水", "楼下邻居说天花板有水印", "晚上能听到滴答声", "用了疏通剂也没用",
         "柜子底板已经泡坏", "水费比以前高了不少"),
    ),
    "daily-electrical": (
        ("{r}插座没电，空开没有跳闸", "{r}灯一开就跳闸", "{r}开关面板发烫", "{r}网络面板没有信号",
         "{r}电视信号口不通", "{r}插座面板松动脱落", "{r}筒灯不亮，换了灯泡也不行", "可视对讲没有声音",
         "{r}空调插座一用就跳闸", "入户配电箱漏电保护器经常跳"),
        ("已经换过灯泡", "影响正常用电", "担心有安全隐患", "孩子在家不敢用", "下雨天更容易跳闸"),
    ),
    "daily-doors-windows": (
        ("{r}推拉窗关不严", "{r}窗户密封条脱落", "{r}窗把手断了", "{r}门锁反锁后打不开", "入户门猫眼松动",
         "{r}门框变形，关门很费劲", "{r}纱窗破损", "{r}窗台渗水", "{r}玻璃有裂纹", "入户门密码锁失灵",
         "阳台推拉门轨道卡顿"),
        ("刮风时有呼啸声", "下雨时窗台进水", "开关时有异响", "已经影响到安全", "刚收房时就有这个问题"),
    ),
    "daily-walls-floors": (
        ("{r}墙面开裂", "{r}地砖空鼓，踩上去有响声", "{r}木地板起拱", "{r}墙面涂料起皮脱落", "{r}踢脚线脱落",
         "{r}天花板有裂缝", "{r}瓷砖开裂", "{r}墙面有大面积霉点", "{r}石膏线开裂", "{r}地面不平，有明显高差"),
        ("裂缝越来越长", "大约有四五块", "担心影响房屋结构", "装修前就发现了", "拍了照片可以发给你们"),
    ),
    "daily-waterproofing": (
        ("{l}天花板渗水", "{l}墙角发霉、墙皮起鼓", "外墙渗水导致{l}内墙起皮", "{l}窗边渗水",
         "{l}地面渗水到楼下", "顶楼屋面漏水到{l}", "{l}管道井周边渗水", "{l}飘窗下方渗水", "地下室墙面渗水"),
        ("下雨天尤其严重", "楼上邻居说他们家没用水", "已经影响到楼下住户", "墙纸都泡坏了", "接了好几桶水"),
    ),
    "daily-fittings": (
        ("{k}马桶水箱一直流水", "{k}花洒出水忽冷忽热", "{k}浴室柜门板变形", "厨房烟道倒烟", "燃气热水器点不着火",
         "厨房橱柜台面开裂", "{k}淋浴房玻璃门关不上", "{k}排风扇不转", "{k}浴霸灯不亮", "厨房水槽与台面接缝发黑渗水"),
        ("换过配件仍然不行", "影响日常使用", "做饭时满屋油烟", "家里老人洗澡不方便", "保修期内希望免费更换"),
    ),
    "public-lift": (
        ("{b}电梯门关闭时有异响", "{b}电梯运行时抖动", "{b}电梯按钮不灵", "{b}电梯轿厢灯不亮",
         "{b}电梯经常停在一楼不动", "{b}电梯平层不准，有台阶", "{b}电梯对讲按钮没反应"),
        ("老人和孩子坐着害怕", "已经好几天了", "早高峰等电梯要十几分钟", "担心出安全事故"),
    ),
    "public-lighting": (
        ("地下车库{g}灯不亮", "楼道{f}声控灯不亮", "小区{p}路灯不亮", "单元门厅灯一直闪", "楼梯间应急灯不亮",
         "地下车库{g}十几盏灯不亮"),
        ("晚上很暗，不安全", "老人晚上出门看不清路", "已经坏了一个多星期", "停车时看不清"),
    ),
    "public-landscape": (
        ("{p}草坪大面积枯黄", "{p}树枝快挨到窗户了，需要修剪", "{p}喷泉水泵不工作", "{p}景观水池有异味",
         "{p}步道地砖松动", "{p}儿童滑梯有裂口", "{p}健身器材螺丝松动", "{p}灌木丛蚊虫很多"),
        ("孩子经常在这里玩", "夏天味道更大", "影响小区环境", "晚上散步容易绊倒"),
    ),
    "public-parking": (
        ("地下车库{g}积水", "地下车库{g}墙面渗水", "车库道闸经常抬不起来", "地下车库坡道地面开裂",
         "{g}车位地锁损坏", "地下车库{g}排风不畅有异味", "小区{p}路面坑洼"),
        ("车辆进出很不方便", "下雨后更严重", "车身被滴了很多水渍", "高峰时排起长队"),
    ),
    "public-facade": (
        ("外墙{x}瓷砖脱落", "外墙涂料大面积褪色起皮", "{x}空调外机位栏杆松动", "外立面装饰线条开裂",
         "单元门口雨棚漏水", "{x}外墙有裂缝"),
        ("担心砸到行人", "从楼下能明显看到", "刮大风时有响声", "影响小区形象"),
    ),
    "emergency-water": (
        ("{w}进水管爆裂，水已漫到客厅", "{w}水管爆了，已经关了总阀", "家里突然停水，邻居家也没水",
         "热水器进水管爆开喷水", "楼上漏水像下雨一样往下滴"),
        ("请马上派人", "地板已经泡了", "电器都搬开了", "家里有老人"),
    ),
    "emergency-power": (
        ("家里突然全部停电", "整栋楼停电，电梯也停了", "配电箱冒烟有焦味", "{r}插座打火冒烟", "单元楼道全部断电"),
        ("请马上派人", "冰箱里的东西要坏了", "已经拉了总闸", "家里有人用呼吸机"),
    ),
    "emergency-lift": (
        ("{b}电梯困人，里面有两个人", "{b}电梯困人，有老人在里面", "{b}电梯突然停在两层之间",
         "{b}电梯门打不开，有人被困"),
        ("请马上派人", "里面的人很着急", "已经按了紧急呼叫"),
    ),
    "emergency-fire": (
        ("楼道电动车充电起火", "地下车库{g}有烟雾报警", "厨房油烟机着火，已经扑灭", "楼道有烧焦味，消防报警器在响"),
        ("已经打了119", "请马上派人", "住户都下楼了"),
    ),
    "complaint-facilities": (
        ("小区{p}健身器材损坏一个月没人修", "地下车库充电桩安装申请两个月无人回复", "单元门禁经常失灵，外人随意进出",
         "电梯报修多次仍频繁故障", "小区监控多处不工作", "{p}路灯坏了很久没人管"),
        (),
    ),
    "complaint-quality": (
        ("交房三个月内同一处渗水报修三次仍未修好", "房屋多处墙面开裂，质疑施工质量", "精装修地板质量与样板间不符",
         "外墙渗水反复维修不好", "窗户密封差，冬天漏风严重", "卫生间防水没做好，楼下一直漏"),
        (),
    ),
    "complaint-attitude": (
        ("维修师傅上门态度恶劣", "客服电话打了很多次没人接", "维修人员未穿鞋套，地板被划伤",
         "管家答应回电话却一直没有消息", "维修师傅约好时间却没来也不通知", "前台工作人员说话不耐烦"),
        (),
    ),
    "complaint-fees": (
        ("物业费按建筑面积收取，与合同约定不符", "车位管理费收费标准不清楚", "装修押金迟迟不退",
         "维修收了材料费但没有收据", "公摊水电费明显偏高", "交房时被要求缴纳合同外费用"),
        (),
    ),
    "complaint-promise": (
        ("销售承诺的小区东门至今未开通", "宣传的幼儿园至今没有动工", "样板间承诺的赠送面积没有兑现",
         "承诺的地下车库充电桩没有安装", "宣传的中央景观与实际不符"),
        (),
    ),
    "enquiry-handover": (
        ("交付时能否委托家人代为收房？需要什么手续？", "交房需要带哪些材料？", "交付时发现问题怎么登记？",
         "钥匙领取时间能不能改到周末？", "收房时水电燃气要自己开通吗？", "交房前能否先看一次房？"),
        (),
    ),
    "enquiry-certificate": (
        ("不动产权证什么时候可以办理？", "办证需要准备哪些材料？", "契税发票在哪里领取？",
         "贷款的房子办证流程是怎样的？", "产权证上能否加上配偶的名字？"),
        (),
    ),
    "enquiry-fees": (
        ("首年物业费和装修押金可以分开缴纳吗？", "物业费可以按月交吗？", "车位租金怎么收取？",
         "维修基金交了多少，怎么查询？", "电费是预付费还是后付费？"),
        (),
    ),
    "enquiry-decoration": (
        ("装修可以改动厨房的燃气管道位置吗？", "阳台可以封窗吗？有没有统一样式？", "装修时间有什么规定？周末可以施工吗？",
         "装修垃圾放在哪里？", "空调外机位置有规定吗？", "地暖可以自己加装吗？"),
        (),
    ),
    "enquiry-other": (
        ("小区快递柜什么时候安装？", "小区有没有业主群？怎么加入？", "宠物登记需要什么材料？",
         "小区幼儿园什么时候招生？", "门禁卡丢了怎么补办？"),
        (),
    ),
}

# (category code, weight) per kind: DOMAIN.md's half-year mix (daily repairs 45 %, public areas
# 30 %, emergencies 5 %; complaints: facilities 60 %, attitude 25 %, fees 15 %).
CATEGORY_WEIGHTS = {
    Kind.REPAIR: (
        ("daily-plumbing", 12), ("daily-electrical", 8), ("daily-doors-windows", 9),
        ("daily-walls-floors", 10), ("daily-waterproofing", 11), ("daily-fittings", 6),
        ("public-lift", 8), ("public-lighting", 8), ("public-landscape", 7), ("public-parking", 7),
        ("public-facade", 7.5), ("emergency-water", 3), ("emergency-power", 2), ("emergency-lift", 1.2),
        ("emergency-fire", 0.3),
    ),
    Kind.COMPLAINT: (
        ("complaint-facilities", 35), ("complaint-quality", 25), ("complaint-attitude", 25),
        ("complaint-fees", 12), ("complaint-promise", 3),
    ),
    Kind.ENQUIRY: (
        ("enquiry-handover", 25), ("enquiry-certificate", 20), ("enquiry-fees", 20),
        ("enquiry-decoration", 25), ("enquiry-other", 10),
    ),
}
KIND_WEIGHTS = ((Kind.REPAIR, 66), (Kind.COMPLAINT, 14), (Kind.ENQUIRY, 20))
CHANNEL_WEIGHTS = {
    "repair": ((Channel.HOTLINE, 42), (Channel.WEB, 16), (Channel.QR, 14), (Channel.WALK_IN, 6),
               (Channel.PROPERTY, 18), (Channel.WARRANTY, 2)),
    "public": ((Channel.PROPERTY, 45), (Channel.HOTLINE, 30), (Channel.QR, 15), (Channel.WEB, 10)),
    "complaint": ((Channel.HOTLINE, 60), (Channel.WALK_IN, 20), (Channel.WEB, 15), (Channel.PROPERTY, 5)),
    "enquiry": ((Channel.HOTLINE, 55), (Channel.WEB, 20), (Channel.WALK_IN, 10), (Channel.SALES, 15)),
}
#: category → the contractor trades that do its work (estates.Trade codes), best first.
TRADES = {
    "daily-plumbing": ("plumbing_electrical",), "daily-electrical": ("plumbing_electrical", "low_voltage"),
    "daily-doors-windows": ("doors_windows",), "daily-walls-floors": ("fit_out", "civil"),
    "daily-waterproofing": ("waterproofing", "civil"), "daily-fittings": ("fit_out", "hvac", "gas"),
    "public-lift": ("lifts",), "public-lighting": ("plumbing_electrical", "low_voltage"),
    "public-landscape": ("landscaping",), "public-parking": ("civil",), "public-facade": ("civil",),
    "emergency-water": ("plumbing_electrical",), "emergency-power": ("plumbing_electrical",),
    "emergency-lift": ("lifts",), "emergency-fire": ("fire",),
}
#: category → department codes (the first that exists).
DEPARTMENTS = {
    "public": ("PM", "ENG"), "repair": ("ENG", "PM"),
    "complaint-facilities": ("PM", "ENG"), "complaint-quality": ("QA", "ENG"),
    "complaint-attitude": ("CS",), "complaint-fees": ("FIN", "PM"), "complaint-promise": ("MKT", "LEGAL"),
    "enquiry-handover": ("CS",), "enquiry-certificate": ("CS", "LEGAL"), "enquiry-fees": ("FIN", "CS"),
    "enquiry-decoration": ("PM", "CS"), "enquiry-other": ("CS",),
}

COMPLETE_TEXTS = {
    "daily": ("已查明原因并修复，现场试用正常", "已更换损坏配件，业主现场确认", "已重新打胶密封，淋水试验无渗漏",
              "已修补并重新刷漆，待干透后复查", "已疏通并更换接口，试水无异常"),
    "public": ("已修复，恢复正常使用", "已更换损坏的灯具和配件，运行正常", "已修整完毕，现场清理干净",
               "已安排维保单位检修，运行正常"),
    "emergency": ("已关阀抢修，更换爆裂管段，恢复供水", "已排除故障，恢复供电", "已解救被困人员，电梯检修后恢复运行",
                  "已处置完毕，现场无安全隐患"),
}
CLOSE_TEXTS = {
    Kind.COMPLAINT: ("已向业主说明整改方案和时间表，业主认可", "已致歉并对相关人员进行处理，业主表示接受",
                     "已核实收费依据并向业主解释，业主无异议", "已安排专项整改，业主同意先行关闭"),
    Kind.ENQUIRY: ("已电话答复业主", "已短信告知办理流程", "已答复，业主表示清楚了", "已转相关部门答复并回电业主"),
}
ANSWER_TEXTS = {
    Kind.COMPLAINT: ("已收到您的投诉，已安排责任部门核实，预计三个工作日内给出处理方案", "已联系责任部门，整改计划确定后第一时间告知您",
                     "经核实情况属实，已责成相关人员整改，处理结果将电话回复"),
    Kind.ENQUIRY: ("您好，相关手续和材料已短信发送给您，如有疑问请致电客服热线", "已为您查询，具体安排以物业服务中心通知为准",
                   "您咨询的事项需要相关部门确认，确认后回电告知"),
}
REPLY_TEXTS = ("工程部已现场核实，正在制定整改方案", "物业服务中心已安排专人跟进", "财务部已核对收费明细，确认按合同执行",
               "营销部正在与设计院确认，预计本周答复")
CANCEL_TEXTS = ("业主来电表示已自行解决", "重复登记，已合并处理", "业主表示暂不需要维修", "非本公司责任范围，已告知业主联系物业")
PAUSE_TEXTS = {
    PauseReason.WAITING_FOR_OWNER: ("业主出差，下周回来后再约", "业主家中无人，约不上时间", "业主要求等装修完再处理"),
    PauseReason.WAITING_FOR_PARTS: ("等待厂家配件到货", "需要定制玻璃，等待到货", "等待材料进场"),
}
CALLBACK_TEXTS = ("业主对维修结果满意", "业主表示基本满意", "业主认可处理结果", "回访未发现新问题")
COMPLAINT_CALLBACK_TEXTS = ("业主认可处理结果", "业主表示基本满意，希望后续继续跟进", "业主对整改进度表示理解",
                            "业主对答复表示接受")
LOW_CALLBACK_TEXTS = ("业主表示问题仍未解决，要求重新维修", "业主反映维修后又出现同样问题", "业主对维修质量不满意，已重开",
                      "业主反映师傅走后仍有渗漏")
REJECT_REASONS = ("维修后仍然渗水", "问题没有解决", "修补处颜色明显不一致", "师傅走后又出现同样问题", "现场没有清理干净")
REWORK_TEXTS = ("已返工处理，重新试验无异常", "已重新维修，业主现场确认", "已更换整套配件，试用正常")
RECHECK_TEXTS = ("现场复核：整改已完成，业主确认", "现场复核：问题已解决", "现场复核：整改措施已落实，将持续跟进")
CONTACT_TEXTS = ("已与业主约定上门时间", "已电话联系业主，约定明天上午上门", "业主在家，马上上门")
THIRD_PARTY_TEXTS = ("原施工单位两次上门未修好", "原施工单位超时未处理")
FRONT_DESK = ("物业前台 刘洋", "物业前台 陈静", "物业管家 张磊", "物业管家 李娜", "安保主管 周强")


class Pick:
    """Weighted choice by bisecting cumulative weights (faster than ``random.choices``)."""

    def __init__(self, pairs):
        pairs = [(item, weight) for item, weight in pairs if weight > 0]
        self.items = [item for item, _ in pairs]
        self.cum, total = [], 0.0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def __bool__(self):
        return bool(self.items)

    def __call__(self, rng):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def fill(template, rng):
    """``template`` with each {slot} replaced by a word of that slot."""
    while "{" in template:
        start = template.index("{")
        slot = template[start + 1:template.index("}", start)]
        template = template.replace("{" + slot + "}", rng.choice(SLOTS[slot]), 1)
    return template


def compose(code, kind, rng):
    """One description of category ``code``."""
    problems, details = FRAGMENTS[code]
    problem = fill(rng.choice(problems), rng)
    if kind == Kind.ENQUIRY:
        return problem + (rng.choice(ENQUIRY_CLOSERS) if rng.random() < 0.4 else "")
    if kind == Kind.COMPLAINT:
        text = ("业主投诉：" if rng.random() < 0.3 else "") + problem + "。"
        return text + (rng.choice(COMPLAINT_CLOSERS) if rng.random() < 0.8 else "")
    opener = rng.choice(OPENERS) if rng.random() < 0.45 and not code.startswith("emergency") else ""
    text = opener + problem
    if details and rng.random() < 0.7:
        text += "，" + rng.choice(details)
    text += "。"
    if rng.random() < 0.55:
        text += rng.choice(REPAIR_CLOSERS)
    return text


# --- The registry as the generator needs it -------------------------------------------------------


@dataclass
class Policy:
    pk: int
    kind: str
    category_id: int | None
    priority: str
    project_id: int | None
    order: int
    repeat_window_days: int
    targets: dict  # clock kind → SLATarget (calendar loaded)

    def specificity(self):
        return (self.project_id is None, self.category_id is None, not self.priority, self.pk)


@dataclass
class Registry:
    units: list  # (id, project_id, building_id)
    owners: dict  # unit index → (owner id, name, mobile)
    handed: list  # (date, unit index), sorted
    sold: list  # (date, unit index), sorted
    categories: dict  # code → Category
    departments: dict  # code → id
    contractors: dict  # (project id, category code) → [contractor ids], best first
    policies: list  # Policy
    project_contractors: dict = field(default_factory=dict)  # project id → [ids]
    contractor_names: dict = field(default_factory=dict)  # id → name


def load_registry():
    units = list(Unit.objects.order_by("pk").values_list("pk", "project_id", "building_id", "handover_date"))
    index = {pk: n for n, (pk, _p, _b, _h) in enumerate(units)}
    owners, signed = {}, {}
    for unit_id, owner_id, name, mobile, start in Ownership.objects.filter(is_primary=True).order_by("pk").values_list(
        "unit_id", "owner_id", "owner__name", "owner__mobile", "start"
    ):
        n = index.get(unit_id)
        if n is not None and n not in owners:
            owners[n] = (owner_id, name, mobile)
            signed[n] = start
    handed = sorted((h, n) for n, (_pk, _p, _b, h) in enumerate(units) if h is not None)
    sold = sorted((start, n) for n, start in signed.items() if start is not None)
    categories = {c.code: c for c in Category.objects.all()}
    departments = dict(Department.objects.values_list("code", "pk"))
    trades, serves, active, names = defaultdict(set), defaultdict(set), {}, {}
    for pk, is_active, name in Contractor.objects.values_list("pk", "active", "name"):
        active[pk], names[pk] = is_active, name
    for pk, code in Contractor.trades.through.objects.values_list("contractor_id", "trade__code"):
        trades[pk].add(code)
    for pk, project_id in Contractor.projects.through.objects.values_list("contractor_id", "project_id"):
        serves[project_id].add(pk)
    contractors, project_contractors = {}, {}
    for project_id, pks in serves.items():
        live = sorted(pk for pk in pks if active.get(pk))
        project_contractors[project_id] = live
        for code, wanted in TRADES.items():
            found = []
            for trade in wanted:
                found += [pk for pk in live if trade in trades[pk] and pk not in found]
            contractors[(project_id, code)] = found
    policies = []
    for policy in SLAPolicy.objects.filter(active=True).prefetch_related("targets__calendar"):
        policies.append(Policy(
            policy.pk, policy.kind, policy.category_id, policy.priority, policy.project_id, policy.order,
            policy.repeat_window_days, {target.clock: target for target in policy.targets.all()},
        ))
    return Registry(
        units=[(pk, p, b) for pk, p, b, _h in units], owners=owners, handed=handed, sold=sold,
        categories=categories, departments=departments, contractors=contractors, policies=policies,
        project_contractors=project_contractors, contractor_names=names,
    )


class Policies:
    """``clocks.policy_for`` in memory: the same match and order over the active policies, read
    once."""

    def __init__(self, registry):
        self.policies = registry.policies
        self.parents = {c.pk: c.parent_id for c in registry.categories.values()}
        self._cache = {}

    def __call__(self, kind, category_id, priority, project_id):
        key = (kind, category_id, priority, project_id)
        if key not in self._cache:
            chain = []
            if category_id:
                parent = self.parents.get(category_id)
                chain = [category_id, *([parent] if parent else []),
                         *([self.parents[parent]] if parent and self.parents.get(parent) else [])]
            candidates = [
                p for p in self.policies
                if p.kind == kind and p.project_id in (None, project_id) and p.priority in ("", priority)
                and (p.category_id is None or p.category_id in chain)
            ]
            self._cache[key] = min(candidates, key=lambda p: (p.order, *p.specificity()), default=None)
        return self._cache[key]


class WorkingTimes:
    """``WorkingTime`` per calendar and year, as ``clocks.Calendars`` builds it for a moment in
    that year (holidays of the years around it), each day's working window worked out once."""

    def __init__(self):
        self._built = {}
        self._calendars = {c.pk: c for c in WorkCalendar.objects.prefetch_related("hours")}
        self._tz = timezone.get_default_timezone()
        self._last = {}  # calendar id → (year's first moment, next year's, WorkingTime)

    def preload(self, first_year, last_year):
        """Build every calendar for these years now (a forked generator must not query)."""
        for calendar_id in self._calendars:
            for year in range(first_year, last_year + 1):
                self(calendar_id, dt.datetime(year, 7, 1, tzinfo=UTC))

    def __call__(self, calendar_id, when):
        last = self._last.get(calendar_id)
        if last is not None and last[0] <= when < last[1]:
            return last[2]
        year = when.astimezone(self._tz).year  # timezone.localdate(when).year
        key = (calendar_id, year)
        if key not in self._built:
            built = self._calendars[calendar_id].working_time(around=dt.date(year, 7, 1))
            self._built[key] = _Windows(**{f.name: getattr(built, f.name) for f in dataclass_fields(built)})
        first, after = (dt.datetime(y, 1, 1, tzinfo=self._tz).astimezone(UTC) for y in (year, year + 1))
        self._last[calendar_id] = (first, after, self._built[key])
        return self._built[key]


@dataclass(frozen=True)
class _Windows(WorkingTime):
    """A ``WorkingTime`` that remembers each day's working window (its arithmetic asks for the
    same days again and again); everything else is WorkingTime's own."""

    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def window(self, day):
        try:
            return self.memo[day]
        except KeyError:
            window = self.memo[day] = WorkingTime.window(self, day)
            return window


CASE_FIELDS = (
    "id", "number", "kind", "channel", "category_id", "priority", "complaint_grade", "status",
    "project_id", "building_id", "unit_id", "owner_id", "reporter_name", "reporter_mobile", "description",
    "department_id", "contractor_id", "original_contractor_id", "assignee_id", "pause_reason", "paused_from",
    "escalation_level", "repeat_of_id", "source", "search_words", "registered_at", "dispatched_at",
    "completed_at", "closed_at", "registered_by_id",
)
EVENT_FIELDS = (
    "case_id", "type", "verb", "from_status", "to_status", "actor_type", "actor_user_id", "actor_name",
    "text", "visible_to_owner", "data", "created_at",
)
CLOCK_FIELDS = (
    "case_id", "clock", "round", "policy_id", "amount", "unit", "before_clock", "calendar_id",
    "remind_percent", "started_at", "paused_since", "paused_total", "due_at", "remind_at", "escalate_at",
    "sweep_at", "reminded_at", "breached_at", "escalation_level", "escalated_at", "stopped_at",
)


# --- Clocks: the engine's rules replayed in memory -----------------------------------------------


class _Clock:
    """A ``CaseClock``'s fields without a model instance (the replay makes tens of thousands);
    the engine's ``_schedule``, ``_pending``, ``next_sweep`` and ``_unpause`` read and write only
    these attributes."""

    __slots__ = CLOCK_FIELDS[1:]

    def __init__(self, clock, round, policy_id, amount, unit, before_clock, calendar_id, remind_percent,
                 started_at):
        self.clock, self.round, self.policy_id, self.amount, self.unit = clock, round, policy_id, amount, unit
        self.before_clock, self.calendar_id, self.remind_percent = before_clock, calendar_id, remind_percent
        self.started_at, self.paused_since, self.paused_total = started_at, None, dt.timedelta(0)
        self.due_at = self.remind_at = self.escalate_at = self.sweep_at = None
        self.reminded_at = self.breached_at = self.escalated_at = self.stopped_at = None
        self.escalation_level = 0

    def row(self, case_id, ts, duration, stamps):
        """The table's row; ``stamps``: the steps' moments already in the database's form (a
        clock starts and stops at steps). The sweep's moments are the clock's own due,
        reminder and escalation times, converted once."""
        due, remind, escalate = self.due_at, self.remind_at, self.escalate_at
        due_s, remind_s, escalate_s = ts(due), ts(remind), ts(escalate)
        sweep, reminded, breached, escalated = self.sweep_at, self.reminded_at, self.breached_at, self.escalated_at
        if sweep is not None:
            sweep = remind_s if sweep is remind else due_s if sweep is due else ts(sweep)
        if reminded is not None:
            reminded = remind_s if reminded is remind else ts(reminded)
        if breached is not None:
            breached = due_s if breached is due else ts(breached)
        if escalated is not None:
            escalated = (escalate_s if escalated is escalate else due_s if escalated is due
                         else remind_s if escalated is remind else ts(escalated))
        paused, stopped = self.paused_since, self.stopped_at
        return (case_id, self.clock, self.round, self.policy_id, self.amount, self.unit, self.before_clock,
                self.calendar_id, self.remind_percent, stamps[self.started_at], paused and ts(paused),
                duration(self.paused_total), due_s, remind_s, escalate_s, sweep, reminded, breached,
                self.escalation_level, escalated, stopped and stamps[stopped])


class ClockReplay:
    """What ``clocks.on_event`` and the sweep would have written for one case's steps: the same
    rules (``clocks.EVENTS``), targets and arithmetic, on unsaved ``CaseClock`` rows."""

    def __init__(self, policies, working_times):
        self.policies = policies
        self.working = working_times
        self._rules = {}
        self._after = {}  # 24×7 targets: (due, reminder, escalation) after the start
        self._at = {}  # working calendars: (due, reminder, escalation) from a next working moment

    def run(self, case, steps, now, level=0):
        """``case``: kind, category_id, priority, project_id. ``steps``: [(verb, when, details)]
        in time order; ``details["clock"]`` names the clock verb when it differs from the step's
        (a rejected sign-off or a low call-back score reopens: "reopen"), ``details["escalate"]``
        raises the case one level as the verb does. ``level``: the case's level at registration
        (1 for a repeat repair). Returns (clocks, the case's escalation level by now: the verbs'
        raises and what the sweep raised it to)."""
        self.case, self.clocks, self.level, self.due = case, [], level, None
        policy = self.policies(case["kind"], case["category_id"], case["priority"], case["project_id"])
        self.policy, self.targets = policy, (policy.targets if policy else {})
        key = (case["kind"], policy.pk if policy is not None else None)
        self.table = self._rules.get(key)
        if self.table is None:
            self.table = self._rules[key] = {}
        for verb, when, details in steps:
            if self.due is not None and self.due <= when:
                self.sweep(when)
            if details:
                if details.get("escalate"):
                    self.level = min(self.level + 1, MAX_ESCALATION)
                verb = details.get("clock", verb)
            self.on_event(verb, when, details)
        self.sweep(now)
        return self.clocks, self.level

    def on_event(self, verb, when, details):
        if verb == "pause":
            if details.get("reason") in PAUSING_REASONS:
                for clock in self.clocks:
                    if clock.stopped_at is None and clock.paused_since is None:
                        clock.paused_since, clock.sweep_at = when, None
            return
        if verb == "callback" and not details.get("done", True):
            return
        rules = self.table.get(verb)
        if rules is None:
            rules = self.table[verb] = self.rules(verb)
        for stops, starts, wanted in rules:
            self.stop(stops, when)
            if starts:
                self.start(starts, wanted, when)

    def rules(self, verb):
        """``EVENTS[verb]`` as ``clocks.on_event`` and ``_start`` apply it to this case: [(clocks
        to stop, [(clock to start, "start" or "again")] of those the policy has a target for,
        the ones timed before another clock last, the set of them)], worked out once per verb,
        kind and policy."""
        kind, targets, rules = self.case["kind"], self.targets, []
        for rule in EVENTS.get(verb, ()):
            if rule.kinds is not None and kind not in rule.kinds:
                continue
            starts = [(clock, "start") for clock in rule.start] + [
                (clock, "again") for clock in rule.again + rule.restart]
            starts = sorted(((clock, mode) for clock, mode in starts if clock in targets),
                            key=lambda item: bool(targets[item[0]].before_clock))
            rules.append((frozenset(rule.stop) | frozenset(rule.restart), starts,
                          frozenset(clock for clock, _mode in starts)))
        return rules

    def stop(self, kinds, when):
        for clock in self.clocks:
            if clock.clock in kinds and clock.stopped_at is None:
                if clock.paused_since is not None:
                    _unpause(clock, when, self.working(clock.calendar_id, when))
                if clock.breached_at is None and when > clock.due_at:
                    clock.breached_at = clock.due_at
                clock.stopped_at, clock.sweep_at = when, None

    def start(self, kinds, wanted, when):
        """``clocks._start``; ``kinds`` and ``wanted`` as ``rules`` gives them."""
        targets = self.targets
        latest = {}
        for clock in self.clocks:  # in round order
            if clock.clock in wanted:
                latest[clock.clock] = clock
        for kind, mode in kinds:
            previous = latest.get(kind)
            if previous is not None and (previous.stopped_at is None or mode == "start"):
                continue
            target = targets[kind]
            reference = latest.get(target.before_clock) if target.before_clock else None
            if target.before_clock and (reference is None or reference.stopped_at is not None):
                continue
            calendar_id = reference.calendar_id if reference else target.calendar_id
            clock = _Clock(kind, previous.round + 1 if previous else 1, self.policy.pk, target.amount,
                           target.unit, target.before_clock, calendar_id, target.remind_percent, when)
            self.schedule(clock, self.working(calendar_id, when), reference)
            latest[kind] = clock
            self.clocks.append(clock)
            if clock.sweep_at is not None and (self.due is None or clock.sweep_at < self.due):
                self.due = clock.sweep_at

    def schedule(self, clock, working, reference):
        """``clocks._schedule``, remembered where its result is shared. On a 24×7 calendar it
        does not depend on the start (every minute counts: due, reminder and escalation lie the
        same time after any start), so it is worked out once per target and shifted to each
        start. On a working calendar it depends only on the next working moment from the start
        (nothing counts before it), so clocks started outside working hours (the night, the
        weekend, a holiday) share the one worked out for the first of them."""
        when = clock.started_at
        if working.always:
            key = (clock.calendar_id, clock.clock, clock.amount, clock.unit, clock.remind_percent,
                   reference.due_at - when if reference is not None else None)
            after = self._after.get(key)
            if after is None:
                _schedule(clock, working, reference)
                self._after[key] = (clock.due_at - when, clock.remind_at - when, clock.escalate_at - when,
                                    clock.sweep_at - when)
                return
            clock.due_at, clock.remind_at, clock.escalate_at, clock.sweep_at = (
                when + after[0], when + after[1], when + after[2], when + after[3])
            return
        if reference is not None or clock.amount < 1:
            _schedule(clock, working, reference)
            return
        opens = working.next_working_moment(when)
        if opens == when:  # inside working hours: its own
            _schedule(clock, working, reference)
            return
        key = (id(working), clock.clock, clock.amount, clock.unit, clock.remind_percent, opens)
        times = self._at.get(key)
        # A target in days is reminded at the opening of its due day (``_start_of_due_day``),
        # which lies after any start that shares the next working moment.
        if times is None or times[1] < when:
            _schedule(clock, working, reference)
            self._at[key] = (clock.due_at, clock.remind_at, clock.escalate_at, clock.sweep_at)
            return
        clock.due_at, clock.remind_at, clock.escalate_at, clock.sweep_at = times

    def sweep(self, now):
        """The sweep's steps due by ``now`` on running, unpaused clocks (clocks._take_steps),
        each recorded at the moment it fell due (the sweep runs every minute). ``self.due``: no
        step falls due before it (the earliest ``sweep_at`` at the last sweep or start since)."""
        if self.due is None or self.due > now:
            return
        due = None
        for clock in self.clocks:
            if clock.stopped_at is not None or clock.paused_since is not None:
                continue
            if clock.sweep_at is None or clock.sweep_at > now:
                continue
            for what, level, moment in _pending(clock):
                if moment > now or (what == "breach" and moment == now):
                    break
                if what == "remind":
                    clock.reminded_at = moment
                elif what == "breach":
                    clock.breached_at = clock.due_at
                clock.escalation_level = max(clock.escalation_level, level)
                clock.escalated_at = moment
                self.level = max(self.level, clock.escalation_level)
            clock.sweep_at = next_sweep(clock)
        for clock in self.clocks:
            if clock.sweep_at is not None and (due is None or clock.sweep_at < due):
                due = clock.sweep_at
        self.due = due


# --- When cases come in ---------------------------------------------------------------------------

#: Registrations by hour of day (Asia/Shanghai): quiet at night, peaks mid-morning and evening.
HOUR_WEIGHTS = (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 6, 9, 10, 9, 6, 7, 9, 9, 8, 7, 7, 8, 8, 6, 4, 2)
#: A unit generates more cases in its first weeks after handover (the handover defects).
HANDOVER_BOOST = 2.5
HANDOVER_DECAY_DAYS = 45
#: Sold, not yet handed-over units still ask and complain a little.
SOLD_RATE = 0.12


@dataclass
class Timeline:
    tz: ZoneInfo
    days: list  # local dates
    counts: list  # cases per day
    weights: list


def plan_days(registry, count, now):
    """Cases per local day over the last SPAN_DAYS days up to ``now``: proportional to the units
    handed over by then (boosted in their first weeks) plus a little from units sold."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=SPAN_DAYS - 1)
    handed_dates = [h for h, _ in registry.handed]
    sold_dates = [s for s, _ in registry.sold]
    decay = math.exp(-1 / HANDOVER_DECAY_DAYS)
    boost = 0.0
    # The boost of units handed over before the window.
    for h in handed_dates[:bisect.bisect_left(handed_dates, first)]:
        boost += decay ** (first - h).days
    days, weights = [], []
    day = first
    fallback = not handed_dates and not sold_dates
    midnight = dt.datetime.combine(today, dt.time(), tz)
    elapsed = (now - midnight) / DAY  # share of today gone
    while day <= today:
        handed = bisect.bisect_right(handed_dates, day)
        new = handed - bisect.bisect_right(handed_dates, day - DAY)
        if day > first:
            boost = boost * decay + new
        sold = bisect.bisect_right(sold_dates, day) - handed
        weight = handed + HANDOVER_BOOST * boost + SOLD_RATE * max(sold, 0)
        if fallback:
            weight = len(registry.units)
        if day.weekday() >= 5:
            weight *= 0.85
        if day == today:
            weight *= elapsed
        days.append(day)
        weights.append(max(weight, 0.0))
        day += DAY
    total = sum(weights)
    counts, given, running = [], 0, 0.0
    for weight in weights:
        running += weight
        upto = round(count * running / total) if total else 0
        counts.append(upto - given)
        given = upto
    return Timeline(tz=tz, days=days, counts=counts, weights=weights)


def open_chance(age_days):
    """Relative chance that a case ``age_days`` old is still open (scaled to OPEN_SHARE)."""
    return math.exp(-age_days / 30) + 0.08 * math.exp(-age_days / 300)


def open_scale(timeline, today):
    """The factor k for which Σ count × min(0.8, k × open_chance(age)) = OPEN_SHARE × count."""
    total = sum(timeline.counts)
    want = OPEN_SHARE * total
    ages = [((today - day).days + 0.5, n) for day, n in zip(timeline.days, timeline.counts) if n]
    low, high = 0.0, 1000.0
    for _ in range(60):
        k = (low + high) / 2
        got = sum(n * min(0.8, k * open_chance(age)) for age, n in ages)
        low, high = (k, high) if got < want else (low, k)
    return (low + high) / 2


# --- Making cases ---------------------------------------------------------------------------------

#: The status each verb leaves a case in (the services' transitions); absent: unchanged.
STATUS_AFTER = {
    "register": Status.REGISTERED, "accept": Status.ACCEPTED, "dispatch": Status.DISPATCHED,
    "on_site": Status.IN_PROGRESS, "pause": Status.PAUSED, "third_party": Status.DISPATCHED,
    "complete": Status.COMPLETED, "close": Status.CLOSED, "cancel": Status.CANCELLED, "reopen": Status.IN_PROGRESS,
}


def next_status(status, verb, details):
    """The status after ``verb`` (with its step's ``details``) on a case in ``status``."""
    if verb == "sign_off":  # a rejection reopens
        return Status.SIGNED_OFF if details.get("accepted", True) else Status.IN_PROGRESS
    if verb == "callback":  # a low score reopens; otherwise a signed-off repair closes
        if details.get("reopened"):
            return Status.IN_PROGRESS
        return Status.CLOSED if status == Status.SIGNED_OFF else status
    return STATUS_AFTER.get(verb, status)


def status_after(steps):
    status = ""
    for verb, _when, details in steps:
        status = next_status(status, verb, details)
    return status



#: Standard normal quantiles at the midpoints of 4,096 equal slices: a table lookup per draw
#: instead of random.gauss (a few microseconds each, four or five per case).
_NORMAL = tuple(NormalDist().inv_cdf((n + 0.5) / 4096) for n in range(4096))


def ln(rng, median_minutes, sigma):
    """A log-normal duration with this median (minutes)."""
    return dt.timedelta(minutes=median_minutes * math.exp(sigma * _NORMAL[rng.getrandbits(12)]))


class _Day:
    """A date whose formatting (``{date:%Y%m%d}`` in NUMBER_FORMAT) is done once per spec."""

    __slots__ = ("day", "formatted")

    def __init__(self, day):
        self.day, self.formatted = day, {}

    def __format__(self, spec):
        text = self.formatted.get(spec)
        if text is None:
            text = self.formatted[spec] = format(self.day, spec)
        return text


@dataclass
class Batch:
    cases: list = field(default_factory=list)
    events: list = field(default_factory=list)
    clocks: list = field(default_factory=list)


@dataclass
class Summary:
    created: int = 0
    skipped: bool = False
    statuses: dict = field(default_factory=lambda: defaultdict(int))
    events: int = 0
    clocks: int = 0
    running_clocks: int = 0
    repeats: int = 0
    descriptions: int = 0
    search_words: bool = False
    seconds: float = 0.0
    database: str = ""


class CaseMaker:
    """Builds the rows of each case, day by day."""

    def __init__(self, registry, count, now, words_for=None, ts=None, duration=None, prefix=SOURCE_PREFIX):
        self.prefix = prefix  # of each case's ``source``: "demo-large:1", …
        """``ts`` and ``duration`` turn aware datetimes and timedeltas into what the database
        takes (Writer.ts / Writer.duration); unchanged by default."""
        self.registry, self.count, self.now = registry, count, now
        self.ts, self.duration = ts or _same, duration or _same
        self.timeline = plan_days(registry, count, now)
        self.today = now.astimezone(self.timeline.tz).date()
        self.k = open_scale(self.timeline, self.today)
        self.policies = Policies(registry)
        self.replay = ClockReplay(self.policies, WorkingTimes())
        self.kinds = Pick(KIND_WEIGHTS)
        self.categories = {
            kind: Pick((code, w) for code, w in pairs if code in registry.categories)
            for kind, pairs in CATEGORY_WEIGHTS.items()
        }
        self.channels = {key: Pick(pairs) for key, pairs in CHANNEL_WEIGHTS.items()}
        self.hours = Pick(enumerate(HOUR_WEIGHTS))
        self.handed_dates = [h for h, _ in registry.handed]
        self.sold_dates = [s for s, _ in registry.sold]
        conf = django_apps.get_app_config("cases").settings
        self.number_format, self.prefixes = conf["NUMBER_FORMAT"], conf["NUMBER_PREFIXES"]
        self.counters = {
            (kind, day): last for kind, day, last in CaseCounter.objects.values_list("kind", "day", "last")
        }
        self.used = {}  # (kind, day) → last number given by this run
        self._day = None
        self.words_for = words_for
        self.words = {}
        self.pools = self._description_pools()
        self.last_repair = {}  # (unit id, category id) → (case id, registered_at, number)
        self._handover = {}  # (project id, category code, contractor id) → [contractor ids]
        self.repair_scores, self.complaint_scores = Pick(REPAIR_SCORES), Pick(COMPLAINT_SCORES)
        self.summary = Summary(search_words=words_for is not None)

    # --- descriptions
    def _description_pools(self):
        rng = random.Random("anju-demo-cases:descriptions")
        size = min(MAX_DESCRIPTIONS, max(200, int(self.count * DESCRIPTIONS_PER_CASE)))
        pools = {}
        for kind, pairs in CATEGORY_WEIGHTS.items():
            total = sum(w for _c, w in pairs)
            kind_share = dict(KIND_WEIGHTS)[kind] / 100
            for code, weight in pairs:
                wanted = max(8, int(size * kind_share * weight / total))
                seen = dict.fromkeys(compose(code, kind, rng) for _ in range(wanted * 3))
                pools[code] = list(seen)[:wanted]
        return pools

    def describe(self, code, rng):
        text = rng.choice(self.pools[code])
        if self.words_for is None:
            return text, ""
        words = self.words.get(text)
        if words is None:
            words = self.words[text] = self.words_for(text)
        return text, words

    # --- the stream
    def batches(self, first_id, chunk=CHUNK):
        """Yield Batch objects of about ``chunk`` cases, in registration order; the first one
        smaller (FIRST_CHUNK), so that the writer starts early."""
        batch, case_id, ordinal, size = Batch(), first_id, 0, min(chunk, FIRST_CHUNK)
        for day, n in zip(self.timeline.days, self.timeline.counts):
            if not n:
                continue
            rng = random.Random(f"anju-demo-cases:{day.isoformat()}")
            for when in self._times(day, n, rng):
                ordinal += 1
                self.make(batch, rng, case_id, ordinal, day, when)
                case_id += 1
            if len(batch.cases) >= size:
                self.summary.events += len(batch.events)
                yield batch
                batch, size = Batch(), chunk
        if batch.cases:
            self.summary.events += len(batch.events)
            yield batch

    def _times(self, day, n, rng):
        midnight = dt.datetime.combine(day, dt.time(), self.timeline.tz)
        times = []
        for _ in range(n):
            when = midnight + dt.timedelta(hours=self.hours(rng), seconds=rng.randrange(3600))
            if when >= self.now:
                when = midnight + (self.now - midnight) * rng.random()
            times.append(when.astimezone(UTC))
        times.sort()
        return times

    def _unit(self, kind, day, rng):
        """A unit index: repairs on units handed over by ``day`` (more often in their first
        weeks), complaints and enquiries also from units sold by then."""
        registry = self.registry
        handed = bisect.bisect_right(self.handed_dates, day)
        sold = bisect.bisect_right(self.sold_dates, day)
        if kind != Kind.REPAIR and sold and (not handed or rng.random() < (0.2 if kind == Kind.COMPLAINT else 0.5)):
            return registry.sold[rng.randrange(sold)][1], False
        if handed:
            if rng.random() < 0.35:  # a unit in its first weeks after handover
                since = day - dt.timedelta(days=rng.expovariate(1 / HANDOVER_DECAY_DAYS))
                low = bisect.bisect_left(self.handed_dates, since)
                # None handed over in that window (a gap between handovers): any handed unit,
                # not the last one before the gap, which would gather a third of the repairs.
                if low < handed:
                    return registry.handed[rng.randrange(low, handed)][1], True
            return registry.handed[rng.randrange(handed)][1], True
        if sold:
            return registry.sold[rng.randrange(sold)][1], False
        return rng.randrange(len(registry.units)), False

    def _number(self, kind, day):
        key = (kind, day)
        seq = self.used.get(key, self.counters.get(key, 0)) + 1
        self.used[key] = seq
        if self._day is None or self._day.day != day:
            self._day = _Day(day)
        return self.number_format.format(prefix=self.prefixes[kind], date=self._day, seq=seq)

    def make(self, batch, rng, case_id, ordinal, day, registered):
        registry, now = self.registry, self.now
        kind = self.kinds(rng)
        if not self.categories[kind]:
            kind = Kind.REPAIR if self.categories[Kind.REPAIR] else kind
        code = self.categories[kind](rng) if self.categories[kind] else None
        category = registry.categories.get(code)
        unit_index, handed_over = self._unit(kind, day, rng)
        unit_id, project_id, building_id = registry.units[unit_index]
        public = bool(code) and code.startswith("public")
        emergency = bool(category and category.emergency)
        if emergency:
            priority = Priority.EMERGENCY
        elif kind == Kind.REPAIR:
            priority = Priority.URGENT if rng.random() < 0.08 else Priority.NORMAL
        elif kind == Kind.COMPLAINT:
            priority = Priority.URGENT if rng.random() < 0.1 else Priority.NORMAL
        else:
            priority = Priority.NORMAL
        grade = ""
        if kind == Kind.COMPLAINT:
            r = rng.random()
            grade = ComplaintGrade.MAJOR if r < 0.02 else ComplaintGrade.SERIOUS if r < 0.15 else ComplaintGrade.GENERAL
        channel_key = "public" if public else kind
        channel = self.channels[channel_key](rng)
        if kind == Kind.ENQUIRY and channel == Channel.SALES and handed_over:
            channel = Channel.HOTLINE
        owner = registry.owners.get(unit_index)
        owner_id, reporter, mobile = None, None, None
        if public and (channel == Channel.PROPERTY or owner is None):
            reporter = rng.choice(FRONT_DESK)
            mobile = f"154{(unit_index * 7919 + 61_000_000) % 100_000_000:08d}"
        elif owner is not None:
            owner_id, name, mobile = owner
            r = rng.random()
            if r < 0.12:  # a family member calls
                reporter = name[0] + rng.choice(("先生", "女士"))
                mobile = f"154{(unit_index * 104729 + 62_000_000 + int(r * 1000)) % 100_000_000:08d}"
            elif r < 0.4:
                reporter = name[0] + rng.choice(("先生", "女士"))
            else:
                reporter = name
        else:
            reporter = rng.choice(("王女士", "李先生", "张女士", "刘先生", "陈女士"))
            mobile = f"154{(unit_index * 15485863 + 63_000_000) % 100_000_000:08d}"
        description, words = self.describe(code, rng) if code else ("业主来电反映问题，详见通话记录。", "")
        case = {
            "id": case_id, "kind": kind, "category_id": category.pk if category else None,
            "priority": priority, "project_id": project_id,
        }
        repeat_of, repeat_number, repeat_days = None, "", 0
        if kind == Kind.REPAIR and not public and category is not None:
            policy = self.policies(kind, category.pk, priority, project_id)
            repeat_days = policy.repeat_window_days if policy is not None else 90
            earlier = self.last_repair.get((unit_id, category.pk))
            if repeat_days and earlier and registered - earlier[1] <= dt.timedelta(days=repeat_days):
                repeat_of, repeat_number = earlier[0], earlier[2]
        number = self._number(kind, day)

        department_id, contractor_id = self._assignees(kind, code, project_id, rng)
        policy = self.policies(kind, case["category_id"], priority, project_id)
        others = self._others(project_id, code, contractor_id) if contractor_id else ()
        status, steps, pause_reason, paused_from, third_party = self._story(
            rng, kind, priority, registered, emergency, policy.targets if policy is not None else {}, others)
        # The case's fields as the verbs leave them: dispatched_at by the last dispatch or
        # hand-over, completed_at by the last completion (a reopen keeps it), closed_at by the
        # close, cancel or the call-back that closes a signed-off repair (a low score clears it).
        dispatched_at = completed_at = closed_at = None
        for verb, when, details in steps:
            if verb in ("dispatch", "third_party"):
                dispatched_at = when
            elif verb == "complete":
                completed_at = when
            elif verb in ("close", "cancel"):
                closed_at = when
            elif verb == "callback":
                closed_at = None if details.get("reopened") else closed_at or when
        if repeat_of is not None:
            self.summary.repeats += 1
        if kind == Kind.REPAIR and unit_id and category is not None and not public and status != Status.CANCELLED:
            self.last_repair[(unit_id, category.pk)] = (case_id, registered, number)

        # Clocks, open or closed: the steps replayed through the engine's rules and arithmetic,
        # the case's level raised as the verbs (a repeat, a rejection, a low score) and the sweep
        # raised it.
        clocks, level = self.replay.run(case, steps, now, 1 if repeat_of is not None else 0)

        unit_col, ts = None if public else unit_id, self.ts
        stamps = {when: ts(when) for _verb, when, _details in steps}  # each moment in the database's form
        ids = {"department": department_id, "contractor": contractor_id}
        batch.cases.append((
            case_id, number, kind, channel, case["category_id"], priority, grade, status,
            project_id, building_id, unit_col, owner_id, reporter, mobile, description,
            department_id if dispatched_at else None, (third_party or contractor_id) if dispatched_at else None,
            contractor_id if third_party else None, None, pause_reason, paused_from, level,
            repeat_of, f"{self.prefix}{ordinal}", words, stamps[registered], dispatched_at and stamps[dispatched_at],
            completed_at and stamps[completed_at], closed_at and stamps[closed_at], None,
        ))
        self._events(batch, rng, case_id, kind, code, channel, reporter, description, steps, status, ids,
                     third_party, repeat_of, repeat_number, repeat_days, stamps)
        duration, running = self.duration, 0
        for clock in clocks:
            batch.clocks.append(clock.row(case_id, ts, duration, stamps))
            running += clock.stopped_at is None
        self.summary.running_clocks += running
        self.summary.clocks += len(clocks)
        self.summary.statuses[status] += 1
        self.summary.created += 1

    def _assignees(self, kind, code, project_id, rng):
        departments = self.registry.departments
        if kind == Kind.REPAIR:
            wanted = DEPARTMENTS["public" if code and code.startswith("public") else "repair"]
        else:
            wanted = DEPARTMENTS.get(code, ("CS",))
        department_id = next((departments[c] for c in wanted if c in departments), None)
        contractor_id = None
        if kind == Kind.REPAIR:
            found = self.registry.contractors.get((project_id, code), ())
            if found and rng.random() < 0.85:
                contractor_id = found[0] if len(found) == 1 or rng.random() < 0.8 else rng.choice(found)
        return department_id, contractor_id

    def _others(self, project_id, code, contractor_id):
        """Whom a repair of ``code`` can be handed to (转第三方) from ``contractor_id``: the
        project's other contractors with the category's trade, else any other of the project."""
        key = (project_id, code, contractor_id)
        found = self._handover.get(key)
        if found is None:
            registry = self.registry
            found = [pk for pk in registry.contractors.get((project_id, code), ()) if pk != contractor_id]
            found = found or [pk for pk in registry.project_contractors.get(project_id, ()) if pk != contractor_id]
            self._handover[key] = found
        return found

    # --- lifecycles
    def _story(self, rng, kind, priority, registered, emergency, targets, others):
        """(status, steps [(verb, when, details)] from the registration, pause reason, paused
        from, the third-party contractor or None). ``targets``: the policy's targets by clock;
        ``others``: whom a repair could be handed to."""
        now = self.now
        age = (now - registered) / DAY
        is_open = rng.random() < min(0.8, self.k * open_chance(age))
        steps = [("register", registered, {})]
        if is_open:
            return (*self._open_story(rng, kind, priority, registered, emergency, steps), None)
        if rng.random() < CANCEL_SHARE / (1 - OPEN_SHARE):
            stage = rng.random()
            t = registered
            if stage < 0.3:
                t += ln(rng, 15, 0.8)
                steps.append(("accept", t, {}))
            elif stage < 0.45:
                t += ln(rng, 40, 0.8)
                steps.append(("dispatch", t, {}))
            t += ln(rng, 120, 1.2)
            steps.append(("cancel", t, {}))
            return Status.CANCELLED, self._fit(steps, "cancel", rng), "", "", None
        third_party = None
        if kind == Kind.REPAIR:
            steps, third_party = self._repair_done(rng, priority, emergency, steps, targets, others)
        else:
            steps = self._answered(rng, kind, steps)
        return status_after(steps), steps, "", "", third_party

    def _visit(self, rng, steps, t, emergency, fast, on_site):
        """The contractor's call after a dispatch or hand-over at ``t`` and, where the policy
        times it (``on_site``), the arrival; returns when they got to work."""
        t += ln(rng, 3, 0.6) if emergency else ln(rng, 11, 0.8)
        steps.append(("contact", t, {}))
        t += ln(rng, 16, 0.35) if emergency else ln(rng, 180 if fast else 480, 0.8)
        if on_site:
            steps.append(("on_site", t, {}))
        return t

    def _repair_done(self, rng, priority, emergency, steps, targets, others):
        """A repair done and, as far as now allows, signed off and called back: (steps, the
        third-party contractor or None). Not every one is fixed first time: some go to a third
        party (the contractor's one chance used up), some are rejected at the sign-off or score
        below LOW_SCORE at the call-back, which reopens them until they are done again."""
        now = self.now
        fast = emergency or priority == Priority.URGENT
        on_site = ClockKind.ON_SITE in targets
        t = steps[0][1] + (ln(rng, 5, 0.6) if emergency else ln(rng, 20 if fast else 60, 0.9))
        steps.append(("dispatch", t, {}))
        t = self._visit(rng, steps, t, emergency, fast, on_site)
        third_party = None
        if others and not emergency and rng.random() < THIRD_PARTY_SHARE:
            third_party = others[0] if len(others) == 1 else rng.choice(others)
            t += ln(rng, 2 * 1440, 0.6)  # came back, or did not, and still no fix
            steps.append(("third_party", t, {}))
            t = self._visit(rng, steps, t, emergency, fast, on_site)
        t += ln(rng, 240 if emergency else 180, 0.8)
        if rng.random() < 0.08:
            t += ln(rng, 3 * 1440, 0.6)  # parts
        steps.append(("complete", t, {}))
        steps = self._fit(steps, "complete", rng)
        r = rng.random()
        failure = "" if third_party else "reject" if r < REJECT_SHARE else "low" if r < REJECT_SHARE + LOW_SHARE else ""
        tail, t = [], steps[-1][1]
        signed = t + self._sign_delay(rng)
        if failure == "reject":  # reopened, back to work, done again
            tail.append(("sign_off", signed, {"accepted": False, "clock": "reopen", "escalate": True}))
            t = signed + ln(rng, 1440, 0.7)
            tail.append(("complete", t, {"again": True}))
            signed = t + self._sign_delay(rng)
        tail.append(("sign_off", signed, {"accepted": True}))
        called = signed + ln(rng, CALLBACK_MINUTES, 0.5)
        if failure == "low":
            score = LOW_SCORE - 1 if rng.random() < 0.65 else 1
            tail.append(("callback", called, {"score": score, "reopened": True, "clock": "reopen", "escalate": True}))
            t = called + ln(rng, 2 * 1440, 0.7)
            tail.append(("complete", t, {"again": True}))
            signed = t + self._sign_delay(rng)
            tail.append(("sign_off", signed, {"accepted": True}))
            called = signed + ln(rng, CALLBACK_MINUTES, 0.5)
        tail.append(("callback", called, {"score": self.repair_scores(rng)}))
        if rng.random() < 0.004:  # the owner never signs, or is never reached
            stop = "sign_off" if rng.random() < 0.5 else "callback"
            tail = tail[:next(n for n, step in enumerate(tail) if step[0] == stop)]
        for step in tail:
            if step[1] > now:
                break
            steps.append(step)
        return steps, third_party

    def _sign_delay(self, rng):
        return ln(rng, 30, 0.8) if rng.random() < 0.6 else ln(rng, 1440, 0.9)

    def _answered(self, rng, kind, steps):
        """A complaint or enquiry answered and closed: accepted, passed to the department
        (complaints nearly always, whose reply is due an hour before the owner's answer), the
        answer, the close; a complaint's call-back and on-site re-check after it, as far as now
        allows."""
        complaint = kind == Kind.COMPLAINT
        t = steps[0][1] + ln(rng, 25 if complaint else 10, 0.85)
        steps.append(("accept", t, {}))
        dispatched = rng.random() < (0.9 if complaint else 0.3)
        if dispatched:
            t += ln(rng, 45 if complaint else 30, 0.8)
            steps.append(("dispatch", t, {}))
            if complaint:
                t += ln(rng, 300, 0.85)
                steps.append(("department_reply", t, {}))
        t += ln(rng, 60, 0.8) if complaint else ln(rng, 240 if dispatched else 120, 1.1)
        steps.append(("answer", t, {}))
        t += ln(rng, 720, 1.1) if complaint else ln(rng, 15, 1.0)
        steps.append(("close", t, {}))
        steps = self._fit(steps, "close", rng)
        if complaint:
            closed = steps[-1][1]
            after = sorted(((closed + ln(rng, 360, 0.8), "callback", {"score": self.complaint_scores(rng)}),
                            (closed + ln(rng, 3600, 0.55), "recheck", {})), key=lambda item: item[0])
            for when, verb, details in after:
                if when > self.now:
                    break
                steps.append((verb, when, details))
        return steps

    def _fit(self, steps, last_verb, rng):
        """Squeeze the steps so that ``last_verb`` lies before now (a young case closed fast)."""
        registered, end = steps[0][1], steps[-1][1]
        if end < self.now:
            return steps
        scale = (self.now - registered) * rng.uniform(0.4, 0.95) / (end - registered)
        return [(verb, registered + (when - registered) * scale, details) for verb, when, details in steps]

    OPEN_STAGES = {
        Kind.REPAIR: Pick(((Status.REGISTERED, 3), (Status.ACCEPTED, 5), (Status.DISPATCHED, 30),
                           (Status.IN_PROGRESS, 47), (Status.PAUSED, 15))),
        Kind.COMPLAINT: Pick(((Status.REGISTERED, 5), (Status.ACCEPTED, 35), (Status.DISPATCHED, 50),
                              (Status.PAUSED, 10))),
        Kind.ENQUIRY: Pick(((Status.REGISTERED, 10), (Status.ACCEPTED, 55), (Status.DISPATCHED, 30),
                            (Status.PAUSED, 5))),
    }

    def _open_story(self, rng, kind, priority, registered, emergency, steps):
        """An open case: as far along as its age allows, at most to the stage drawn for it."""
        now, goal = self.now, self.OPEN_STAGES[kind](rng)
        fast = emergency or priority == Priority.URGENT
        status, t = Status.REGISTERED, registered
        order = [Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS]
        pause_at = {Kind.REPAIR: Status.IN_PROGRESS, Kind.COMPLAINT: Status.DISPATCHED, Kind.ENQUIRY: Status.ACCEPTED}
        stop = pause_at[kind] if goal == Status.PAUSED else goal
        plan = []
        if not emergency and (kind != Kind.REPAIR or rng.random() < 0.3 or stop == Status.ACCEPTED):
            plan.append(("accept", Status.ACCEPTED, ln(rng, 15 if kind == Kind.REPAIR else 30, 0.9)))
        plan.append(("dispatch", Status.DISPATCHED, ln(rng, 5, 0.6) if emergency else ln(rng, 40 if fast else 60, 0.9)))
        if kind == Kind.REPAIR:  # the call and the arrival as ``_visit`` times them
            plan.append(("contact", None, ln(rng, 3, 0.6) if emergency else ln(rng, 11, 0.8)))
            on_site = ln(rng, 16, 0.35) if emergency else ln(rng, 180 if fast else 480, 0.8)
            plan.append(("on_site", Status.IN_PROGRESS, on_site))
        for verb, reaches, delay in plan:
            if reaches is not None and order.index(reaches) > order.index(stop):
                break
            if verb == "contact" and order.index(stop) < order.index(Status.IN_PROGRESS) and rng.random() < 0.5:
                continue  # dispatched, the contractor has not called yet
            if t + delay >= now:
                break
            t += delay
            steps.append((verb, t, {}))
            if reaches is not None:
                status = reaches
        if kind != Kind.REPAIR and status != Status.REGISTERED and rng.random() < 0.85:
            # The owner's answer (the result or where it stands), after the department's reply.
            answer = t + ln(rng, 240 if kind == Kind.COMPLAINT else 90, 0.9)
            if kind == Kind.COMPLAINT and status == Status.DISPATCHED:
                reply = t + (answer - t) * rng.uniform(0.3, 0.9)
                if reply < now:
                    steps.append(("department_reply", reply, {}))
            if answer < now:
                steps.append(("answer", answer, {}))
                t = answer
        reason, paused_from = "", ""
        if goal == Status.PAUSED and status == stop:
            delay = ln(rng, 600, 1.0)
            if t + delay < now:
                t += delay
                reason = (PauseReason.WAITING_FOR_OWNER if kind != Kind.REPAIR or rng.random() < 0.65
                          else PauseReason.WAITING_FOR_PARTS)
                steps.append(("pause", t, {"reason": reason}))
                paused_from, status = status, Status.PAUSED
        return status, steps, reason, paused_from

    # --- timeline rows
    def _events(self, batch, rng, case_id, kind, code, channel, reporter, description, steps, final, ids,
                third_party, repeat_of, repeat_number, repeat_days, stamps):
        """One event per step, with the verbs' data: a call's ``reached``, a sign-off's
        ``accepted``, a call-back's ``reached``/``score``/``reopened``, a hand-over's contractor.
        ``stamps``: the steps' moments in the database's form."""
        names = self.registry.contractor_names
        worker = names.get(ids["contractor"], "工程部维修组")
        worker_type = ActorType.CONTRACTOR if ids["contractor"] else ActorType.SYSTEM
        status = ""
        owner_channel = channel in (Channel.WEB, Channel.QR)
        parent = (code or "daily").split("-")[0]
        rows = batch.events
        for verb, when, details in steps:
            before = status
            status = next_status(status, verb, details)
            etype, text, data, visible = CaseEvent.Type.TRANSITION, "", "{}", True
            actor_type, actor_name = ActorType.SYSTEM, DESK
            if verb == "register":
                text = description
                if owner_channel:
                    actor_type, actor_name = ActorType.OWNER, reporter
            elif verb == "dispatch":
                data = (f'{{"department": {_js(ids["department"])}, "contractor": {_js(ids["contractor"])}, '
                        '"assignee": null}')
            elif verb == "contact":
                etype, text, data, visible = CaseEvent.Type.CALL, rng.choice(CONTACT_TEXTS), '{"reached": true}', False
                actor_type, actor_name = worker_type, worker
            elif verb == "department_reply":
                etype, text, visible = CaseEvent.Type.NOTE, rng.choice(REPLY_TEXTS), False
            elif verb == "answer":
                etype, text = CaseEvent.Type.MESSAGE, rng.choice(ANSWER_TEXTS.get(kind, ANSWER_TEXTS[Kind.ENQUIRY]))
            elif verb == "on_site":
                actor_type, actor_name = worker_type, worker
            elif verb == "pause":
                reason = details["reason"]
                text = rng.choice(PAUSE_TEXTS[reason])
                data = f'{{"reason": "{reason}"}}'
            elif verb == "third_party":
                text = rng.choice(THIRD_PARTY_TEXTS)
                data = f'{{"contractor": {_js(third_party)}}}'
                worker, worker_type = names.get(third_party, worker), ActorType.CONTRACTOR
            elif verb == "complete":
                texts = REWORK_TEXTS if details.get("again") else COMPLETE_TEXTS.get(parent, COMPLETE_TEXTS["daily"])
                text, actor_type, actor_name = rng.choice(texts), worker_type, worker
            elif verb == "sign_off":
                actor_type, actor_name = ActorType.OWNER, reporter
                if details.get("accepted", True):
                    text, data = "业主验收通过", '{"accepted": true}'
                else:
                    text, data = "业主验收不通过：" + rng.choice(REJECT_REASONS), '{"accepted": false}'
            elif verb == "callback":
                score, reopened = details["score"], details.get("reopened", False)
                visible = False
                if reopened:
                    text = rng.choice(LOW_CALLBACK_TEXTS)
                else:
                    text = rng.choice(CALLBACK_TEXTS if kind == Kind.REPAIR else COMPLAINT_CALLBACK_TEXTS)
                data = f'{{"reached": true, "score": {score}, "reopened": {"true" if reopened else "false"}}}'
            elif verb == "recheck":
                etype, text, visible = CaseEvent.Type.NOTE, rng.choice(RECHECK_TEXTS), False
            elif verb == "close":
                text = rng.choice(CLOSE_TEXTS.get(kind, CLOSE_TEXTS[Kind.ENQUIRY]))
            elif verb == "cancel":
                text = rng.choice(CANCEL_TEXTS)
            if etype == CaseEvent.Type.TRANSITION:
                frm, to = before, status
            else:
                frm, to = "", ""
            rows.append((case_id, etype, verb, frm, to, actor_type, None, actor_name, text, visible, data,
                         stamps[when]))
            if verb == "register" and repeat_of is not None:
                rows.append((
                    case_id, CaseEvent.Type.NOTE, "repeat", "", "", ActorType.SYSTEM, None, DESK,
                    f"{repeat_days} 天内同一房号同一分类已有工单 {repeat_number}，已标记为重复报修并升级。", False,
                    f'{{"repeat_of": {repeat_of}, "days": {repeat_days}}}', stamps[when],
                ))
        assert status == final, (status, final, steps)


# --- Writing ------------------------------------------------------------------------------------


class Writer:
    """Rows straight into the tables: executemany on SQLite, COPY on PostgreSQL (binary where
    every column takes a plain value: the server then reads a timestamp instead of parsing its
    text, half the time for the clock rows)."""

    def __init__(self, conn):
        self.conn = conn
        self.vendor = conn.vendor
        self.tables = {}
        for model, fields in ((Case, CASE_FIELDS), (CaseEvent, EVENT_FIELDS), (CaseClock, CLOCK_FIELDS)):
            self.tables[model] = self._layout(model, fields)

    @property
    def ts(self):
        """Aware datetime → the database's form (SQLite: UTC text, as Django writes it)."""
        return _same if self.vendor == "postgresql" else _sqlite_datetime

    @property
    def duration(self):
        return _same if self.conn.features.has_native_duration_field else _microseconds

    def _layout(self, model, fields):
        """(table, columns, constant tail, column types for a binary COPY or None) for
        ``fields`` plus any other column of the model (a field added later is written with its
        default)."""
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        missing = [f for f in meta.concrete_fields if f.attname not in fields and not f.primary_key]
        tail = tuple(f.get_db_prep_save(f.get_default(), self.conn) for f in missing)
        columns = [by_attname[name].column for name in fields] + [f.column for f in missing]
        binary = None
        if self.vendor == "postgresql" and not tail:
            with self.conn.cursor() as cursor:
                cursor.execute(
                    "SELECT attname, atttypid, format_type(atttypid, NULL) FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", [meta.db_table])
                types = {name: (oid, kind) for name, oid, kind in cursor.fetchall()}
            # JSON is written as text (the rows hold it as text), so that table's COPY stays text.
            if all(types[column][1] in BINARY_COPY_TYPES for column in columns):
                binary = [types[column][0] for column in columns]
        return meta.db_table, columns, tail, binary

    def write(self, model, rows):
        """``rows``: tuples in the order of the model's *_FIELDS, values already in the
        database's form (``ts``, ``duration``)."""
        if not rows:
            return
        table, columns, tail, binary = self.tables[model]
        if tail:
            rows = [row + tail for row in rows]
        quoted = ", ".join(self.conn.ops.quote_name(c) for c in columns)
        with self.conn.cursor() as cursor:
            if self.vendor == "postgresql":
                sql = f"COPY {self.conn.ops.quote_name(table)} ({quoted}) FROM STDIN"
                with cursor.cursor.copy(sql + (" (FORMAT BINARY)" if binary else "")) as copy:
                    if binary:
                        copy.set_types(binary)
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {self.conn.ops.quote_name(table)} ({quoted}) VALUES ({marks})", rows)

    def reset_sequences(self):
        from django.core.management.color import no_style

        statements = self.conn.ops.sequence_reset_sql(no_style(), [Case, CaseEvent, CaseClock])
        if statements:
            with self.conn.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


class DeferredIndexes:
    """The plain (not unique) indexes of the bulk-written tables, dropped for the load and built
    again after it: one sorted build per index instead of a million scattered insertions into
    each. Unique indexes stay, so numbers and sources are checked as rows go in. Runs inside
    the load's transaction (both databases have transactional DDL): a failed load leaves every
    index as it was."""

    def __init__(self, conn, models=(Case, CaseEvent, CaseClock)):
        self.conn = conn
        self.tables = [model._meta.db_table for model in models]
        self.saved = []

    def drop(self):
        marks = ", ".join(["%s"] * len(self.tables))
        with self.conn.cursor() as cursor:
            if self.conn.vendor == "postgresql":
                cursor.execute(
                    f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                    f"AND tablename IN ({marks}) AND indexdef NOT LIKE 'CREATE UNIQUE %%'", self.tables)
            else:
                cursor.execute(
                    f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks}) "
                    "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE %%'", self.tables)
            self.saved = cursor.fetchall()
            for name, _sql in self.saved:
                cursor.execute(f"DROP INDEX {self.conn.ops.quote_name(name)}")
        return len(self.saved)

    def restore(self):
        with self.conn.cursor() as cursor:
            for _name, sql in self.saved:
                cursor.execute(sql)
        restored, self.saved = len(self.saved), []
        return restored


class DeferredForeignKeys:
    """PostgreSQL: the foreign keys of the bulk-written tables that point at the cases (which
    the load holds anyway) or at the SLA policies and calendars (small, read with the cases),
    dropped for the load and added again after it, each checked by one join instead of a
    trigger per row (a clock row has three). Dropping a foreign key locks the table it points
    at until the commit, so the keys to the registry and the users stay. Inside the load's
    transaction, like DeferredIndexes."""

    def __init__(self, conn, models=(Case, CaseEvent, CaseClock), targets=(Case, SLAPolicy, WorkCalendar)):
        self.conn = conn
        self.tables = [model._meta.db_table for model in models]
        self.targets = [model._meta.db_table for model in targets]
        self.saved = []

    def drop(self):
        if self.conn.vendor != "postgresql":
            return 0
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) AND confrelid = ANY(%s::regclass[]) "
                "ORDER BY 1, 2", [self.tables, self.targets])
            self.saved = cursor.fetchall()
            quote = self.conn.ops.quote_name
            for table, name, _definition in self.saved:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        return len(self.saved)

    def restore(self):
        quote = self.conn.ops.quote_name
        with self.conn.cursor() as cursor:
            for table, name, definition in self.saved:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        restored, self.saved = len(self.saved), []
        return restored


def _js(value):
    """A JSON number or null."""
    return "null" if value is None else str(int(value))


def _sqlite_datetime(value):
    """Django's SQLite form of an aware datetime: UTC, no offset, "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value)[:-6]


def _microseconds(value):
    return None if value is None else (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds


def _same(value):
    return value


def _words_for():
    try:
        from .search import words_for
    except ImportError:
        return None
    return words_for


def already_seeded(prefix=SOURCE_PREFIX):
    return Case.objects.filter(source=f"{prefix}1").exists()


#: Column types a binary COPY is given the rows' values for as they are.
BINARY_COPY_TYPES = frozenset({
    "bigint", "integer", "smallint", "boolean", "text", "character varying", "timestamp with time zone",
    "interval", "date",
})
#: Below this many cases the indexes stay in place during the load.
DEFER_INDEXES_FROM = 50_000
#: From this many cases the rows are built in a second process while this one writes.
PARALLEL_FROM = 50_000
#: SQLite page cache for the load (KiB): index builds sort in memory instead of on disk.
SQLITE_CACHE_KIB = 256 * 1024


def seed_large(count=None, now=None, stdout=None, chunk=CHUNK, defer_indexes=None, parallel=None,
               prefix=SOURCE_PREFIX):
    """Add the large demo's cases (``count``, default ``case_count()``) unless they exist.
    ``defer_indexes``: drop and rebuild the tables' plain indexes around the load (default:
    from DEFER_INDEXES_FROM cases). ``parallel``: build the rows in a forked process while this
    one writes (default: from PARALLEL_FROM cases, where ``fork`` exists). Returns a Summary."""
    started = time.monotonic()
    count = case_count() if count is None else count
    summary = Summary(database=connection.vendor)
    if already_seeded(prefix):
        summary.skipped = True
        if stdout is not None:
            stdout.write("大规模演示工单已存在，未新增。")
        return summary
    now = (now or timezone.now()).astimezone(UTC).replace(microsecond=0)
    registry = load_registry()
    if not registry.units:
        if stdout is not None:
            stdout.write("没有房号，未生成大规模演示工单。")
        return summary
    writer = Writer(connection)
    maker = CaseMaker(registry, count, now, words_for=_words_for(), ts=writer.ts, duration=writer.duration,
                      prefix=prefix)
    indexes, keys = DeferredIndexes(connection), DeferredForeignKeys(connection)
    if defer_indexes is None:
        defer_indexes = count >= DEFER_INDEXES_FROM
    if parallel is None:
        parallel = count >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods()
    with _load_settings(connection), _no_gc(), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Numbers and ids: no registration meanwhile.
                cursor.execute("LOCK TABLE cases_case, cases_casecounter IN SHARE ROW EXCLUSIVE MODE")
                # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked row by row now
                # rather than queued by the million for the commit (and CREATE INDEX refuses a
                # table with checks pending).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        first_id = (Case.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        if defer_indexes:
            indexes.drop()
            keys.drop()
        written = 0
        for batch in produce(maker, first_id, chunk, parallel):
            writer.write(Case, batch.cases)
            writer.write(CaseEvent, batch.events)
            writer.write(CaseClock, batch.clocks)
            written += len(batch.cases)
            if stdout is not None and written % 200_000 < len(batch.cases):
                stdout.write(f"  大规模演示工单：已写入 {written:,} 张")
        if defer_indexes:
            indexes.restore()
            keys.restore()
        save_counters(maker.used)
        writer.reset_sequences()
    if connection.vendor == "postgresql":
        # Planner statistics now, not whenever autovacuum wakes; outside a transaction also the
        # visibility map (index-only scans) and hint bits, which the first readers of freshly
        # copied rows would otherwise write.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} cases_case, cases_caseevent, cases_caseclock")
    else:
        # SQLite keeps no statistics until asked; without them it guesses, and drove e.g. a
        # text search's page from the wrong index (164 against 118 ms). Sampled: under a second.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit = 2000")
            for table in ("cases_case", "cases_caseevent", "cases_caseclock"):
                cursor.execute(f"ANALYZE {table}")
    summary = maker.summary
    summary.database = connection.vendor
    summary.descriptions = sum(len(pool) for pool in maker.pools.values())
    summary.seconds = time.monotonic() - started
    if stdout is not None:
        open_count = sum(summary.statuses.get(s, 0) for s in
                         (Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED))
        stdout.write(
            f"大规模演示工单：{summary.created:,} 张（未结 {open_count:,} 张），记录 {summary.events:,} 条，"
            f"时限 {summary.clocks:,} 个（进行中 {summary.running_clocks:,} 个），用时 {summary.seconds:.1f} 秒"
            + ("" if summary.search_words else "；search_words 未填写（plugins/cases/search.py 不存在）")
        )
    return summary


def produce(maker, first_id, chunk, parallel):
    """``maker``'s batches, built here or, with ``parallel``, in a forked child while the caller
    writes the previous batch (the two halves of the work take about as long each; on two cores
    the load then takes little more than the longer half). The child inherits the registry,
    policies and calendars and never touches the database; it sends the batches, then the
    counters and summary, which are copied back onto ``maker``."""
    if not parallel:
        yield from maker.batches(first_id, chunk)
        return
    context = multiprocessing.get_context("fork")
    maker.replay.working.preload(maker.timeline.days[0].year - 1, maker.today.year + 1)
    queue = context.Queue(maxsize=2)
    child = context.Process(target=_produce_in_child, args=(maker, first_id, chunk, queue), daemon=True)
    child.start()
    try:
        while True:
            try:
                message = queue.get(timeout=5)
            except Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the case generator process died (exit code {child.exitcode})") from None
                continue
            kind, payload = message
            if kind == "batch":
                yield Batch(*payload)
            elif kind == "done":
                maker.used, maker.summary = payload
                return
            else:
                raise RuntimeError("the case generator process failed:\n" + payload)
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=10)


def _produce_in_child(maker, first_id, chunk, queue):
    # The parent's database connection came along with the fork. Django's connection handler
    # keeps it referenced, so it is never finalized here (which would end the parent's session),
    # and nothing here queries; multiprocessing leaves the child by os._exit, running no atexit.
    try:
        for batch in maker.batches(first_id, chunk):
            queue.put(("batch", (batch.cases, batch.events, batch.clocks)))
        queue.put(("done", (maker.used, maker.summary)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        queue.put(("error", traceback.format_exc()))


@contextmanager
def _no_gc():
    """No cyclic garbage collection during the load: millions of new tuples would trigger a
    collection every few hundred allocations, each walking every live container (the registry,
    the batch). The load makes no reference cycles worth collecting meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _load_settings(conn):
    """SQLite: a large page cache for the load's connection, restored afterwards."""
    if conn.vendor != "sqlite":
        yield
        return
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def save_counters(used):
    """Raise each (kind, day) counter to the last number this run gave."""
    existing = {(c.kind, c.day): c for c in CaseCounter.objects.filter(day__in={day for _k, day in used})}
    new, changed = [], []
    for (kind, day), last in used.items():
        counter = existing.get((kind, day))
        if counter is None:
            new.append(CaseCounter(kind=kind, day=day, last=last))
        elif counter.last < last:
            counter.last = last
            changed.append(counter)
    CaseCounter.objects.bulk_create(new, batch_size=1000)
    CaseCounter.objects.bulk_update(changed, ["last"], batch_size=1000)
