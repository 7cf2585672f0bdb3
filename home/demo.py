"""Demo content for the owner portal: ``seed_portal()`` builds the page tree under the home page.

Called by ``estates``' ``seed_demo`` after the registry is seeded (and by ``manage.py
seed_portal``). It writes fresh Simplified Chinese content: the home page's intro and hotline,
the bulletin / open-day / FAQ index pages, two service pages, one project page per demo project,
progress bulletins with photo galleries, two upcoming open days, FAQs and adverse factors.
Pictures are drawn with Pillow (no downloads).

Rules it keeps:

* Idempotent. Pages are found by slug under their parent (index and project pages also by
  type / project), FAQs by question, adverse factors by project and title, images by title.
  Whatever exists is skipped, never updated, so an editor's later edits survive; a second
  call only reads (about twenty queries) and creates nothing.
* Images are made lazily, only when something being created needs them.
* Dates are relative to ``timezone.localdate()``: bulletins cover the last months, open days
  fall in the coming weeks, the milestone timeline is ticked up to today.
* Pages are published (``save_revision().publish()``) so they are live and in the search
  index; FAQs and adverse factors are live with a published revision.
* The two demo projects are looked up by code; if the registry seeder has not run, they are
  created minimally (project and buildings) from the same codes and names.
"""

import calendar
import glob
import io
import os
import random
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, time as clock, timedelta

from django.core.files.images import ImageFile
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from modelsearch import index as search_index
from modelsearch.signal_handlers import post_save_signal_handler
from modelsearch.tasks import insert_or_update_object_task
from wagtail.images import get_image_model
from wagtail.models import Collection, ReferenceIndex
from wagtail.rich_text import RichText
from wagtail.signal_handlers import disable_reference_index_auto_update
from wagtail.tasks import update_reference_index_task
from wagtail.utils.file import hash_filelike

from estates.models import Building, Project
from home.models import (
    FAQ,
    AdverseFactor,
    BuildingProgress,
    FAQIndexPage,
    HomePage,
    OpenDayIndexPage,
    OpenDayPage,
    OpenDaySlot,
    ProgressBulletinIndexPage,
    ProgressBulletinPage,
    ProjectPage,
    StandardPage,
)

#: What migration 0002 puts on the home page; only these values are replaced.
MIGRATION_HOTLINE = "400-800-1234"
HOTLINE = "400-000-5100"


# --- Dates ------------------------------------------------------------------------------------


def month_day(today, months, day):
    """The ``day`` (clipped to the month's length) of the month ``months`` away from today's."""
    year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_weekday(today, weekday, at_least_days):
    """The first ``weekday`` (0 = Monday) at least ``at_least_days`` after today."""
    day = today + timedelta(days=at_least_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def period_label(day):
    return f"{day.year}年{day.month}月"


# --- Projects ---------------------------------------------------------------------------------
# Codes, names, addresses and buildings as in estates/management/commands/seed_demo.py (used only
# when the registry seeder has not created them). Milestones are (months from now, day, title,
# description); the timeline moves with today so the story (bulletins, open days) stays coherent.

PROJECTS = {
    "HZ-YYLT": {
        "name": "安居·映月澜庭",
        "city": "杭州",
        "address": "浙江省杭州市余杭区良渚街道映月路 188 号",
        "hotline": "400-000-5101",
        "buildings": (("1", 33), ("2", 33), ("3", 33), ("5", 18), ("6", 11)),
        # Buildings the bulletins report on (the second handover batch).
        "reported": ("5", "6"),
        "hero": "hz-hero",
        "summary": "良渚映月路旁的改善型社区：3 栋高层、1 栋小高层和 1 栋洋房，一期已交付，二期 5、6 号楼交付进行中。",
        "service_plan": (
            "<p>映月澜庭客户服务由客服部统一受理、统一派单、统一回访，业主只需记住一个电话：<b>400-000-5101</b>（每日 8:30–20:00，夜间紧急报修由物业服务中心 24 小时值班）。</p>"
            "<ul>"
            "<li>报修：派单后 30 分钟内维修单位与您联系预约上门；停水、停电、电梯困人 30 分钟内到场；常规维修 48 小时内完成。</li>"
            "<li>投诉：2 小时内确认受理，24 小时内答复处理结果或当前进展；结案后 24 小时内回访，7 日内现场复查。</li>"
            "<li>回访：维修完成后 3 个工作日内电话回访，您的评价直接计入维修单位考核。</li>"
            "<li>沟通：每月发布工程进展通报，交付前举办工地开放日与模拟验房，每年开展满意度调查。</li>"
            "</ul>"
        ),
        "delivery_standard": (
            "<p>二期 5、6 号楼为精装修交付，主要标准如下（具体品牌、型号以《商品房买卖合同》附件《交付标准》为准）：</p>"
            "<ul>"
            "<li>入户门：甲级钢质防盗门，配智能门锁。</li>"
            "<li>外窗：断桥铝合金中空玻璃窗，卧室设限位器。</li>"
            "<li>客厅、卧室：复合木地板，墙面乳胶漆，吊顶局部石膏板。</li>"
            "<li>厨房：整体橱柜、燃气灶、吸油烟机，墙地面瓷砖。</li>"
            "<li>卫生间：防水层上翻 1.8 米，淋浴区玻璃隔断，坐便器、台盆柜。</li>"
            "<li>公共部位：电梯厅石材地面，单元门禁，地下车库环氧地坪。</li>"
            "</ul>"
        ),
        "milestones": (
            (-43, 15, "首次开盘", "1、2、3 号楼首批房源开盘，签约后 3 日内完成满意度回访。"),
            (-30, 18, "1、2、3 号楼主体结构封顶", ""),
            (-17, 28, "第一批交付", "1、2、3 号楼交付，交付前完成一户一验与抽查复核。"),
            (-12, 26, "5、6 号楼主体结构封顶", ""),
            (-2, 22, "二期竣工验收", "5、6 号楼通过五方竣工验收，消防、电梯等专项验收完成。"),
            (-1, 31, "第二批交付", "5、6 号楼交付，业主按入住通知书预约收房。"),
            (5, 28, "一期保修期届满提醒", "两年保修期届满前 2 个月通知 1、2、3 号楼业主集中报修。"),
        ),
    },
    "CD-JJYF": {
        "name": "安居·锦江悦府",
        "city": "成都",
        "address": "四川省成都市锦江区三圣街道悦府路 66 号",
        "hotline": "400-000-5102",
        "buildings": (("1", 32), ("2", 32), ("3", 30), ("5", 30), ("6", 34)),
        "reported": ("3", "5", "6"),
        "hero": "cd-hero",
        "summary": "三圣花乡旁的高层住宅社区，5 栋高层分三批交付：1、2 号楼已入住，3、5 号楼交付中，6 号楼刚刚封顶。",
        "service_plan": (
            "<p>锦江悦府实行“一个热线、一张工单、一查到底”：报修、投诉、咨询均可拨打 <b>400-000-5102</b> 或在线提交，每张工单都有处理进度，业主无需反复来电催办。</p>"
            "<ul>"
            "<li>交付前：每套房屋交付前完成一户一验，整改后复验；另随机抽取不少于 3%（且不少于 10 套）复核。</li>"
            "<li>交付现场：设客服接待点、验房陪同与钥匙交接，当日发现的问题当场登记为维修工单。</li>"
            "<li>交付后：维修单位派单后 30 分钟内联系业主；每项维修只给维修单位一次机会，未修好即转第三方维修。</li>"
            "<li>投诉：24 小时内答复，72 小时解决率目标 95% 以上。</li>"
            "</ul>"
        ),
        "delivery_standard": (
            "<p>3、5、6 号楼为精装修交付（具体品牌、型号以《商品房买卖合同》附件《交付标准》为准）：</p>"
            "<ul>"
            "<li>入户门：甲级钢质防盗门，电子猫眼。</li>"
            "<li>外窗：铝合金中空 Low-E 玻璃窗，阳台推拉门。</li>"
            "<li>地面：客餐厅瓷砖，卧室复合木地板。</li>"
            "<li>厨卫：整体橱柜、燃气灶、吸油烟机；卫生间干湿分区，防水层经 48 小时闭水试验。</li>"
            "<li>设备：分户燃气热水器，预留空调冷凝水管与插座。</li>"
            "<li>公共部位：入户大堂精装修，每单元 2 部电梯，地下车库充电桩预留。</li>"
            "</ul>"
        ),
        "milestones": (
            (-38, 1, "首次开盘", ""),
            (-26, 16, "1、2 号楼主体结构封顶", ""),
            (-11, 20, "第一批交付", "1、2 号楼交付，收房率 98% 以上。"),
            (-3, 25, "3、5 号楼竣工验收", "通过五方竣工验收及消防、人防、电梯专项验收。"),
            (0, 8, "第二批交付", "3、5 号楼交付，业主按入住通知书预约收房。"),
            (-1, 18, "6 号楼主体结构封顶", ""),
            (7, 30, "第三批交付（计划）", "6 号楼计划交付时间，以入住通知书为准。"),
        ),
    },
}


# --- Images -----------------------------------------------------------------------------------
# key: (title, scene, palette, alt text). Titles are unique: they are how a second run finds them.

IMAGES = {
    "hz-hero": ("映月澜庭 · 小区全景", "towers", "dusk", "黄昏时分的映月澜庭，高层住宅与洋房掩映在绿树之间"),
    "hz-facade": ("映月澜庭 · 5号楼外立面", "scaffold", "day", "5 号楼外立面施工，部分脚手架安全网尚未拆除"),
    "hz-interior": ("映月澜庭 · 精装修样板户", "interior", "day", "精装修样板户客厅，木地板与落地窗"),
    "hz-garden": ("映月澜庭 · 中心花园", "garden", "day", "中心花园的草坪、景观水系与乔木"),
    "hz-gate": ("映月澜庭 · 小区主入口", "gate", "dawn", "小区主入口门楼与背后的住宅楼"),
    "cd-hero": ("锦江悦府 · 小区全景", "towers", "day", "晴天下的锦江悦府高层住宅群"),
    "cd-crane": ("锦江悦府 · 6号楼主体施工", "crane", "day", "6 号楼主体结构施工，塔吊正在吊装"),
    "cd-topping": ("锦江悦府 · 6号楼封顶", "crane", "dusk", "傍晚的 6 号楼，主体结构已封顶"),
    "cd-garden": ("锦江悦府 · 园林景观", "garden", "dawn", "3、5 号楼之间的园林景观与步道"),
    "cd-garage": ("锦江悦府 · 地下车库", "garage", "night", "地下车库环氧地坪、车位划线与照明"),
    "cd-interior": ("锦江悦府 · 交付样板房", "interior", "dawn", "交付样板房室内，阳光从阳台推拉门照入"),
    "cd-powerline": ("锦江悦府 · 东侧高压线", "powerline", "day", "项目东侧的 220kV 高压输电线路与铁塔"),
    "openday": ("工地开放日 · 业主参观", "crowd", "day", "戴安全帽的业主在工地开放日参观施工现场"),
    "service": ("安居客户服务", "abstract", "teal", "客户服务主题插图：房屋与对话气泡"),
    "repair": ("报修服务", "abstract", "blue", "报修服务主题插图：房屋与扳手"),
}

WIDTH, HEIGHT = 1200, 675

PALETTES = {  # (sky top, sky at the horizon)
    "day": ((104, 158, 214), (214, 232, 244)),
    "dawn": ((146, 176, 212), (248, 220, 190)),
    "dusk": ((48, 58, 104), (238, 164, 118)),
    "night": ((40, 44, 52), (86, 92, 100)),
    "teal": ((24, 92, 110), (120, 190, 170)),
    "blue": ((30, 64, 128), (120, 164, 220)),
}

#: Fonts with CJK glyphs commonly found on Debian/Ubuntu, macOS and Windows.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_font_cache = {}


def cjk_font(size):
    """A font that draws Chinese (``ANJU_CJK_FONT`` first, then well-known paths), or None."""
    if size in _font_cache:
        return _font_cache[size]
    from PIL import ImageFont

    candidates = [os.environ.get("ANJU_CJK_FONT", "")] + list(CJK_FONT_CANDIDATES)
    candidates += sorted(glob.glob("/usr/share/fonts/**/*CJK*", recursive=True))
    font = None
    for path in candidates:
        if not path or not os.path.exists(path):
            continue
        try:
            candidate = ImageFont.truetype(path, size)
        except OSError:
            continue
        if _draws_cjk(candidate):
            font = candidate
            break
    _font_cache[size] = font
    return font


def _draws_cjk(font):
    """False for a font without CJK glyphs: it draws the same "missing" box for every character."""
    from PIL import Image, ImageDraw

    def pixels(text):
        image = Image.new("L", (64, 64))
        ImageDraw.Draw(image).text((0, 0), text, font=font, fill=255)
        return image.tobytes()

    return pixels("安") != pixels("居")


def _mix(a, b, t):
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def _sky(palette):
    from PIL import Image

    top, horizon = PALETTES[palette]
    mask = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    return Image.composite(Image.new("RGB", (WIDTH, HEIGHT), horizon), Image.new("RGB", (WIDTH, HEIGHT), top), mask)


def _hills(draw, rng, y, color):
    points = [(0, HEIGHT)]
    for x in range(0, WIDTH + 100, 100):
        points.append((x, y + rng.randint(-30, 20)))
    points.append((WIDTH, HEIGHT))
    draw.polygon(points, fill=color)


def _tower(draw, x, top, width, ground, body, window, lit=False):
    draw.rectangle((x, top, x + width, ground), fill=body)
    draw.rectangle((x - 4, top - 8, x + width + 4, top), fill=_mix(body, (60, 60, 60), 0.25))
    for y in range(top + 18, ground - 20, 22):
        for wx in range(x + 12, x + width - 16, 24):
            draw.rectangle((wx, y, wx + 12, y + 12), fill=window)
    if lit:
        draw.rectangle((x + 12, top + 40, x + 24, top + 52), fill=(255, 214, 140))


def _trees(draw, rng, ground, count, greens=((74, 128, 78), (96, 150, 90), (58, 110, 70))):
    for _ in range(count):
        x = rng.randint(-20, WIDTH)
        r = rng.randint(22, 46)
        draw.rectangle((x - 3, ground - r // 2, x + 3, ground + 6), fill=(96, 72, 52))
        draw.ellipse((x - r, ground - r * 2, x + r, ground - r // 3), fill=rng.choice(greens))


def _skyline(draw, rng, ground, palette, count=5, scaffold=False, faint=False):
    dusk = palette in ("dusk", "night")
    bodies = [(226, 222, 214), (236, 232, 224), (214, 210, 204), (206, 214, 222)]
    window = (160, 178, 196) if not dusk else (92, 104, 132)
    step = WIDTH // count
    towers = []
    for i in range(count):
        width = rng.randint(110, 160)
        x = i * step + rng.randint(10, max(11, step - width - 10))
        top = ground - rng.randint(260, 470)
        body = rng.choice(bodies)
        if dusk:
            body = _mix(body, (70, 70, 100), 0.45)
        if faint:
            body = _mix(body, PALETTES[palette][1], 0.55)
        _tower(draw, x, top, width, ground, body, _mix(window, body, 0.5) if faint else window, lit=dusk)
        towers.append((x, top, width))
    if scaffold:
        x, top, width = towers[count // 2]
        draw.rectangle((x - 6, top + 60, x + width + 6, ground), fill=(46, 120, 84, 170))
        for y in range(top + 60, ground, 16):
            draw.line((x - 6, y, x + width + 6, y), fill=(30, 90, 60, 200), width=1)
    return towers


def _crane(draw, x, ground, top):
    yellow = (232, 176, 36)
    draw.rectangle((x - 8, top, x + 8, ground), outline=yellow, width=3)
    for y in range(top, ground, 24):
        draw.line((x - 8, y, x + 8, y + 24), fill=yellow, width=2)
    draw.rectangle((x - 180, top - 6, x + 320, top + 6), outline=yellow, width=3)
    for jx in range(x - 180, x + 320, 28):
        draw.line((jx, top - 6, jx + 14, top + 6), fill=yellow, width=2)
    draw.rectangle((x - 170, top + 6, x - 120, top + 36), fill=(120, 120, 120))
    draw.line((x + 220, top + 6, x + 220, top + 150), fill=(60, 60, 60), width=2)
    draw.rectangle((x + 200, top + 150, x + 240, top + 170), fill=(170, 90, 40))


def _scene_towers(draw, rng, palette, crane=False, scaffold=False):
    ground = int(HEIGHT * 0.8)
    _hills(draw, rng, int(HEIGHT * 0.6), _mix(PALETTES[palette][1], (70, 100, 90), 0.35))
    _skyline(draw, rng, ground, palette, count=5, scaffold=scaffold)
    if crane:
        _crane(draw, rng.randint(360, 760), ground, int(HEIGHT * 0.12))
    draw.rectangle((0, ground, WIDTH, HEIGHT), fill=(120, 142, 104) if palette != "dusk" else (62, 76, 66))
    _trees(draw, rng, ground + 30, 14)


def _scene_garden(draw, rng, palette):
    ground = int(HEIGHT * 0.55)
    _skyline(draw, rng, ground, palette, count=6, faint=True)
    draw.rectangle((0, ground, WIDTH, HEIGHT), fill=(116, 168, 96))
    draw.ellipse((620, ground + 60, 1140, ground + 200), fill=(108, 164, 196))
    draw.ellipse((660, ground + 80, 1100, ground + 180), fill=(132, 186, 214))
    draw.polygon([(180, HEIGHT), (420, HEIGHT), (520, ground + 10), (470, ground + 10)], fill=(226, 210, 176))
    _trees(draw, rng, ground + 20, 10)
    _trees(draw, rng, HEIGHT - 20, 5)


def _scene_interior(draw, rng, palette):
    wall, side = (238, 232, 222), (224, 216, 204)
    draw.rectangle((0, 0, WIDTH, HEIGHT), fill=side)
    draw.rectangle((200, 90, 1000, 470), fill=wall)
    draw.polygon([(0, HEIGHT), (WIDTH, HEIGHT), (1000, 470), (200, 470)], fill=(176, 128, 84))
    for i in range(1, 12):  # floor boards converging to the back wall
        draw.line((200 + i * 800 / 12, 470, i * WIDTH / 12, HEIGHT), fill=(150, 106, 68), width=2)
    draw.rectangle((380, 140, 820, 430), fill=(250, 250, 248))
    sky = _mix(*PALETTES[palette], 0.75)
    draw.rectangle((392, 152, 808, 418), fill=sky)
    draw.line((600, 152, 600, 418), fill=(250, 250, 248), width=8)
    draw.polygon([(392, 418), (808, 418), (900, HEIGHT), (300, HEIGHT)], fill=(255, 244, 214, 70))
    draw.rectangle((90, 500, 330, 560), fill=(120, 132, 150))  # a sofa
    draw.rectangle((90, 470, 330, 505), fill=(138, 150, 168))
    draw.ellipse((940, 380, 1010, 450), fill=(84, 140, 86))  # a plant
    draw.rectangle((960, 440, 990, 500), fill=(196, 180, 160))


def _scene_gate(draw, rng, palette):
    ground = int(HEIGHT * 0.78)
    _skyline(draw, rng, ground - 40, palette, count=4, faint=True)
    draw.rectangle((0, ground, WIDTH, HEIGHT), fill=(196, 190, 180))
    stone, dark = (172, 154, 128), (110, 94, 78)
    for x in (300, 820):
        draw.rectangle((x, 260, x + 80, ground), fill=stone)
    draw.rectangle((270, 220, 930, 270), fill=dark)
    draw.polygon([(250, 220), (950, 220), (900, 180), (300, 180)], fill=_mix(dark, (0, 0, 0), 0.2))
    draw.rectangle((520, 232, 680, 258), fill=(212, 182, 110))
    for x in range(0, WIDTH, 60):
        draw.line((x, ground, x - 160, HEIGHT), fill=(176, 170, 160), width=2)
    _trees(draw, rng, ground, 6)


def _scene_garage(draw, rng, palette):
    horizon = int(HEIGHT * 0.42)
    draw.polygon([(0, HEIGHT), (WIDTH, HEIGHT), (760, horizon), (440, horizon)], fill=(92, 120, 110))
    for x in (-200, 400, 1000, 1600):
        draw.line((x, HEIGHT, 600 + (x - 600) * 0.1, horizon), fill=(222, 186, 60), width=4)
    for i, x in enumerate((120, 300, 900, 1080)):
        draw.rectangle((x - 20 + i % 2 * 4, 120, x + 20, HEIGHT - 60), fill=(150, 150, 146))
        draw.rectangle((x - 20, HEIGHT - 140, x + 20, HEIGHT - 60), fill=(230, 200, 60))
    for y, half in ((60, 260), (130, 160), (180, 90)):
        draw.rectangle((600 - half, y, 600 + half, y + 8), fill=(250, 250, 236))


def _scene_powerline(draw, rng, palette):
    ground = int(HEIGHT * 0.75)
    _hills(draw, rng, int(HEIGHT * 0.62), _mix(PALETTES[palette][1], (80, 110, 90), 0.4))
    draw.rectangle((0, ground, WIDTH, HEIGHT), fill=(150, 170, 106))
    steel = (90, 96, 104)
    pylons = [(180, 150), (620, 190), (1060, 230)]
    for x, top in pylons:
        draw.line((x - 50, ground, x, top), fill=steel, width=4)
        draw.line((x + 50, ground, x, top), fill=steel, width=4)
        for y in range(top + 30, ground, 40):
            half = 50 * (y - top) / (ground - top)
            draw.line((x - half, y, x + half, y), fill=steel, width=2)
        draw.line((x - 70, top + 40, x + 70, top + 40), fill=steel, width=4)
    for arm in (-70, 70):
        for (x1, t1), (x2, t2) in zip(pylons, pylons[1:]):
            points = []
            for i in range(21):
                t = i / 20
                points.append((x1 + arm + (x2 - x1) * t, t1 + 40 + (t2 - t1) * t + 50 * 4 * t * (1 - t)))
            draw.line(points, fill=(60, 60, 64), width=2)
    for i in range(5):  # field rows
        draw.line((0, ground + 20 + i * 30, WIDTH, ground + 10 + i * 34), fill=(132, 152, 92), width=3)


def _scene_crowd(draw, rng, palette):
    _scene_towers(draw, rng, palette, crane=True)
    base = HEIGHT - 40
    for i in range(11):
        x = 80 + i * 100 + rng.randint(-20, 20)
        height = rng.randint(150, 190)
        coat = rng.choice([(70, 96, 140), (180, 80, 70), (90, 120, 90), (110, 110, 120), (200, 160, 90)])
        draw.rounded_rectangle((x - 30, base - height + 50, x + 30, base), radius=18, fill=coat)
        draw.ellipse((x - 20, base - height + 6, x + 20, base - height + 48), fill=(236, 200, 170))
        helmet = (250, 250, 250) if i % 4 == 0 else (244, 190, 40)
        draw.pieslice((x - 24, base - height - 4, x + 24, base - height + 36), 180, 360, fill=helmet)


def _scene_abstract(draw, rng, palette):
    for _ in range(9):
        r = rng.randint(60, 220)
        x, y = rng.randint(0, WIDTH), rng.randint(0, HEIGHT)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, rng.randint(18, 40)))
    white = (255, 255, 255, 230)
    draw.polygon([(420, 330), (600, 180), (780, 330)], fill=white)  # a house
    draw.rectangle((460, 330, 740, 520), fill=white)
    draw.rectangle((570, 410, 630, 520), fill=PALETTES[palette][0])
    if palette == "blue":  # a wrench
        draw.line((800, 460, 960, 300), fill=white, width=26)
        draw.ellipse((930, 250, 1010, 330), fill=white)
        draw.ellipse((955, 275, 985, 305), fill=PALETTES[palette][1])
    else:  # a speech bubble
        draw.rounded_rectangle((800, 220, 1040, 380), radius=40, fill=white)
        draw.polygon([(840, 370), (880, 370), (820, 430)], fill=white)
        for x in (860, 920, 980):
            draw.ellipse((x - 12, 288, x + 12, 312), fill=PALETTES[palette][0])


SCENES = {
    "towers": _scene_towers,
    "scaffold": lambda draw, rng, palette: _scene_towers(draw, rng, palette, scaffold=True),
    "crane": lambda draw, rng, palette: _scene_towers(draw, rng, palette, crane=True),
    "garden": _scene_garden,
    "interior": _scene_interior,
    "gate": _scene_gate,
    "garage": _scene_garage,
    "powerline": _scene_powerline,
    "crowd": _scene_crowd,
    "abstract": _scene_abstract,
}


def draw_picture(key, scene, palette, caption):
    """A 1200×675 JPEG (bytes): a simple drawn scene, captioned if a CJK font is installed."""
    from PIL import ImageDraw

    rng = random.Random(f"anju-portal:{key}")
    image = _sky(palette)
    draw = ImageDraw.Draw(image, "RGBA")
    SCENES[scene](draw, rng, palette)
    font = cjk_font(34)
    if font is not None:
        draw.rectangle((0, HEIGHT - 74, WIDTH, HEIGHT), fill=(0, 0, 0, 120))
        draw.text((40, HEIGHT - 56), caption, font=font, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


class ImageLibrary:
    """Demo images by key, found by title or drawn and saved on first use."""

    def __init__(self, created):
        self.created = created
        self.cache = {}

    def __getitem__(self, key):
        if key not in self.cache:
            self.cache[key] = self._get_or_create(key)
        return self.cache[key]

    def alt(self, key):
        return IMAGES[key][3]

    def _get_or_create(self, key):
        title, scene, palette, alt = IMAGES[key]
        Image = get_image_model()
        image = Image.objects.filter(title=title).order_by("pk").first()
        if image is not None:
            return image
        data = draw_picture(key, scene, palette, title)
        image = Image(
            title=title,
            description=alt,
            collection=Collection.get_first_root_node(),
            file_size=len(data),
            file_hash=hash_filelike(io.BytesIO(data)),
        )
        # Assigned as an ImageFile, the field reads width and height from the JPEG.
        image.file = ImageFile(io.BytesIO(data), name=f"anju-demo-{key}.jpg")
        image.save()
        self.created["images"] += 1
        return image


# --- Bulletins --------------------------------------------------------------------------------
# Per project, oldest issue first: (months from now, stage, summary, paragraphs, gallery, image,
# percent per reported building). gallery/image items are (image key, caption).

BULLETINS = {
    "HZ-YYLT": (
        (
            -3, "fit_out", "5、6 号楼室内精装修进入收尾，外立面脚手架全部拆除，园林景观同步施工。",
            (
                "尊敬的映月澜庭业主：本月二期 5 号楼、6 号楼室内精装修进入收尾阶段，厨卫设备、户内门和木地板已基本安装完成，"
                "目前正在进行墙面乳胶漆修补和开关面板安装。5 号楼外立面脚手架已全部拆除，栏杆与空调百叶安装完成。",
                "本月工程部会同监理单位抽查了 6 号楼全部卫生间的闭水试验，蓄水 48 小时，未发现渗漏。"
                "下月将开展分户验收，逐户检查墙地面空鼓开裂、门窗开启密封和水电通畅情况。",
            ),
            (("hz-facade", "5 号楼外立面：脚手架拆除后的立面效果"),
             ("hz-interior", "6 号楼样板户：木地板铺装完成，正在安装开关面板"),
             ("hz-garden", "中心花园：乔木已种植，草坪正在铺设")),
            ("hz-gate", "小区主入口门楼石材干挂完成，大门与门禁设备进场"),
            {"5": 88, "6": 90},
        ),
        (
            -2, "acceptance", "二期完成分户验收和五方竣工验收，消防、电梯等专项验收通过，交付准备启动。",
            (
                "本月 5、6 号楼完成分户验收，共检查 5 号楼、6 号楼全部房屋，发现的问题已逐项登记、派给责任施工单位整改，"
                "整改完成后由工程部复验。随后项目通过建设、勘察、设计、施工、监理五方竣工验收，消防和电梯专项验收同步通过。",
                "交付前，客服部将对每一套房屋开展“一户一验”，并由质量管理部随机抽查复核。"
                "入住通知书将按合同约定时间寄出，请留意短信和电话，并确认预留的联系方式是否有变化。",
            ),
            (("hz-interior", "分户验收：逐户检查墙面平整度和门窗密封"),
             ("hz-garden", "园林景观基本完成，儿童活动场地铺设安全地垫"),
             ("hz-facade", "5 号楼外立面清洗完成")),
            ("hz-gate", "主入口人车分流道闸调试完成"),
            {"5": 95, "6": 96},
        ),
        (
            -1, "handover", "5、6 号楼具备交付条件，入住通知书已寄出，交付现场开放预约收房。",
            (
                "二期 5、6 号楼已完成竣工验收备案，《住宅质量保证书》《住宅使用说明书》、面积实测报告等交付资料已准备齐全，"
                "水、电、燃气、有线电视与网络均已开通。",
                "收房当天请携带入住通知书、购房合同、身份证原件及付款凭证，客服人员将核对资料后陪同您验房，"
                "验房中发现的问题当场登记为维修工单，维修单位 30 分钟内与您联系预约。"
                "无法到场的业主可书面委托他人办理，或致电 400-000-5101 改约时间。",
            ),
            (("hz-gate", "交付现场：主入口设置收房指引和客服接待点"),
             ("hz-interior", "交付房屋：精装修完成并完成保洁开荒"),
             ("hz-garden", "交付后的中心花园")),
            ("hz-facade", "5 号楼交付前外立面全貌"),
            {"5": 100, "6": 100},
        ),
    ),
    "CD-JJYF": (
        (
            -4, "structure", "6 号楼主体结构施工至 24 层；3、5 号楼外立面完成，室内精装修全面展开。",
            (
                "尊敬的锦江悦府业主：本月 6 号楼主体结构施工至 24 层，施工速度保持约 6 天一层，塔吊运行正常，"
                "现场安全文明施工检查全部合格。",
                "3 号楼、5 号楼外立面涂料施工完成，室内精装修全面展开，厨房橱柜和卫生间洁具开始进场。"
                "地下车库完成环氧地坪施工，正在进行车位划线和充电桩管线预埋。",
            ),
            (("cd-crane", "6 号楼主体结构施工，塔吊正在吊装钢筋"),
             ("cd-garage", "地下车库环氧地坪施工完成"),
             ("cd-interior", "3 号楼样板户精装修施工")),
            ("cd-hero", "从悦府路看 1、2 号楼与施工中的 3、5 号楼"),
            {"3": 84, "5": 82, "6": 42},
        ),
        (
            -3, "landscape", "3、5 号楼精装修收尾，园林景观与室外管网施工；6 号楼主体施工至 28 层。",
            (
                "3、5 号楼精装修进入收尾阶段，本月完成卫生间闭水试验，蓄水 48 小时无渗漏；"
                "园林景观开始施工，大树移栽和景观步道铺装同步推进，雨污水及燃气室外管网已完成敷设。",
                "6 号楼主体结构施工至 28 层。为减少夜间噪声，混凝土浇筑安排在白天进行；"
                "如施工对您的生活造成影响，请拨打 400-000-5102，我们将在 24 小时内答复。",
            ),
            (("cd-garden", "3、5 号楼之间的景观步道铺装"),
             ("cd-interior", "精装修收尾：墙面修补与开关面板安装"),
             ("cd-crane", "6 号楼施工至 28 层")),
            ("cd-garage", "地下车库车位划线完成"),
            {"3": 91, "5": 90, "6": 50},
        ),
        (
            -2, "acceptance", "3、5 号楼通过五方竣工验收和专项验收；模拟验房开放报名。",
            (
                "3、5 号楼本月通过五方竣工验收，消防、人防、电梯、规划等专项验收同步通过；"
                "室内环境检测结果符合国家标准，检测报告将在交付现场公示。",
                "交付前我们将对每一套房屋开展“一户一验”，发现问题即派单整改并复验，"
                "另由质量管理部随机抽取不少于 3%（且不少于 10 套）的房屋复核。欢迎报名参加模拟验房，提前熟悉验房要点。",
            ),
            (("cd-interior", "分户验收：检查门窗开启与密封条"),
             ("cd-garden", "园林景观完成约八成，儿童活动区铺设安全地垫"),
             ("cd-garage", "地下车库消防设施联动调试")),
            ("cd-hero", "3、5 号楼外立面全貌"),
            {"3": 97, "5": 96, "6": 56},
        ),
        (
            -1, "topped_out", "6 号楼主体结构顺利封顶；3、5 号楼交付准备就绪，入住通知书陆续寄出。",
            (
                "6 号楼主体结构本月顺利封顶，下一阶段将进行砌体、机电安装和外立面施工。"
                "我们将在近期举办 6 号楼工地开放日，欢迎业主报名参观。",
                "3、5 号楼交付准备就绪：交付资料、钥匙交接清单和物业服务协议均已备齐。收房当天请携带入住通知书、"
                "购房合同、身份证原件及付款凭证；验房中发现的问题当场登记，维修单位 30 分钟内与您联系。",
            ),
            (("cd-topping", "6 号楼主体结构封顶"),
             ("cd-garden", "交付前的园林景观"),
             ("cd-interior", "交付房屋完成保洁开荒")),
            ("cd-crane", "封顶前的最后一次混凝土浇筑"),
            {"3": 100, "5": 100, "6": 62},
        ),
    ),
}


def progress_note(percent, floors):
    """A one-line note for a building's percent complete."""
    if percent >= 100:
        return "已完成竣工验收，具备交付条件"
    if percent >= 95:
        return "竣工验收完成，交付准备中"
    if percent >= 88:
        return "精装修收尾，园林景观与室外管网施工"
    if percent >= 75:
        return "外立面完成，室内精装修施工"
    if percent >= 62:
        return "主体结构已封顶，砌体与机电安装"
    if percent >= 15 and floors:
        return f"主体结构施工至 {max(1, min(floors, round(floors * percent / 60)))} 层"
    return "基础及地下室施工"


# --- Open days --------------------------------------------------------------------------------
# (project, slug, kind, title, intro, place, what to bring, image, slots). A slot is
# (weekday, at least days from today, start, end, capacity, max party size).

OPEN_DAYS = (
    (
        "CD-JJYF", "cd-jjyf-site-open-day", "open_day", "锦江悦府 6 号楼工地开放日",
        "<p>6 号楼主体结构已封顶，诚邀 6 号楼业主走进施工现场：工程师现场讲解结构施工、防水节点和外窗安装工艺，"
        "参观交付样板段，并现场解答您关心的工程问题。</p><p>每个场次约 90 分钟，名额有限，请提前报名。</p>",
        "锦江悦府售楼处（成都市锦江区悦府路 66 号）",
        "购房合同或身份证；请穿平底鞋和长裤，现场统一发放安全帽；为安全起见，12 岁以下儿童和孕妇不宜进入施工区域。",
        "openday",
        ((5, 7, clock(9, 30), clock(11, 0), 30, 3),
         (5, 7, clock(14, 30), clock(16, 0), 30, 3),
         (6, 8, clock(9, 30), clock(11, 0), 24, 3)),
    ),
    (
        "CD-JJYF", "cd-jjyf-mock-inspection", "mock_inspection", "锦江悦府 交付样板房模拟验房",
        "<p>收房前先练一练：验房工程师带您在交付样板房逐项演示验房方法——水电通水通电、门窗开启与密封、"
        "墙地面空鼓和平整度、卫生间防水与排水坡度，并发放《验房清单》。</p>"
        "<p>模拟验房中提出的问题会汇总给工程部，作为“一户一验”的检查重点。</p>",
        "6 号楼交付样板房（售楼处东侧）",
        "购房合同或身份证；可自带卷尺、手电筒和插座测试器，现场也提供验房工具。",
        "cd-interior",
        ((5, 14, clock(9, 0), clock(11, 30), 16, 2),
         (5, 14, clock(14, 0), clock(16, 30), 16, 2)),
    ),
)


# --- FAQs -------------------------------------------------------------------------------------
# (category, question, answer HTML, project codes it applies to; empty = all projects)

FAQS = (
    ("purchase", "签约后多久会接到客服回访？",
     "<p>签约后 3 日内，客服专员会致电回访，核对合同信息，了解您对签约过程的感受。"
     "如未接到电话，可拨打客服热线告知方便接听的时间。</p>", ()),
    ("purchase", "宣传资料和合同约定不一致，以哪个为准？",
     "<p>以双方签署的《商品房买卖合同》及其附件（含《交付标准》）为准。</p>"
     "<p>我们的楼书、户型图、广告和销售答问在发布前都经过客服和法务逐项审核；"
     "如您发现宣传内容与合同不符，请通过热线或在线表单投诉，我们会在 24 小时内答复。</p>", ()),
    ("purchase", "项目周边的不利因素在哪里可以查看？",
     "<p>每个项目主页的“不利因素公示”栏列出了红线内外的噪声、异味、高压线、通信基站、规划道路等情况，"
     "并注明方位和大致距离，售楼处同步公示。购房前请仔细阅读，有疑问可向置业顾问或客服咨询。</p>", ()),
    ("loans", "办理按揭贷款需要准备哪些材料？",
     "<p>一般需要：</p><ul><li>夫妻双方身份证、户口簿、婚姻状况证明；</li>"
     "<li>收入证明和近 6 个月银行流水；</li><li>购房合同和首付款凭证。</li></ul>"
     "<p>各银行要求略有不同，以贷款银行的通知为准。</p>", ()),
    ("loans", "贷款审批没有通过怎么办？",
     "<p>请尽快联系置业顾问。可以按合同约定更换贷款银行、调整贷款额度或补足首付款；"
     "合同对贷款未获批准的处理方式有专门约定，我们会按约定与您协商办理。</p>", ()),
    ("loans", "可以使用公积金贷款或组合贷款吗？",
     "<p>可以。公积金贷款额度和条件以当地公积金管理中心的规定为准，"
     "组合贷款需同时满足银行和公积金中心的审批要求，审批时间一般比纯商业贷款长，请提前准备材料。</p>", ()),
    ("handover", "交房时需要带哪些资料？",
     "<p>收房当天请携带：</p><ol><li>入住通知书；</li><li>购房合同；</li>"
     "<li>业主身份证原件（委托他人办理的，需授权委托书及受托人身份证）；</li><li>购房款及相关费用的付款凭证。</li></ol>"
     "<p>现场流程：核对资料 → 客服陪同验房 → 签署钥匙交接清单 → 签订物业服务协议。</p>", ()),
    ("handover", "验房时应该重点检查什么？",
     "<ul><li>水电：每个水龙头通水、下水是否通畅，每个插座和开关是否通电；</li>"
     "<li>门窗：开启是否顺畅，密封条是否完整，玻璃有无划痕；</li>"
     "<li>墙面和地面：是否平整、有无空鼓和开裂；</li>"
     "<li>卫生间和阳台：地漏排水坡度、防水区域有无渗水痕迹。</li></ul>"
     "<p>发现的问题会登记在验房单上并转为维修工单，整改完成后通知您复验。</p>", ()),
    ("handover", "交房前公司会先检查房屋吗？",
     "<p>会。每套房屋交付前都要经过“一户一验”：工程和客服人员逐户检查，发现的问题派给责任单位整改，整改后复验。"
     "质量管理部还会随机抽取不少于 3%（且不少于 10 套）的房屋复核，确保检查到位。</p>", ()),
    ("handover", "怎么知道房屋已经具备交付条件？",
     "<p>交付前项目须取得竣工验收备案，并提供《住宅质量保证书》《住宅使用说明书》、面积实测报告，"
     "消防、电梯等专项验收以及水、电、燃气开通的证明。这些资料会在交付现场公示，您可以随时查阅。</p>", ()),
    ("handover", "交房时间推迟了，业主的权益如何保障？",
     "<p>如未能按合同约定日期交付，我们将按合同中的逾期交付条款计算违约金，由财务部逐户核算后支付，"
     "并提前书面通知您新的交付安排。</p>", ()),
    ("handover", "交房当天不能到场怎么办？",
     "<p>可以书面委托亲友代为收房（需授权委托书和受托人身份证），也可以拨打客服热线另约时间，"
     "我们会为您保留交付资料和钥匙。</p>", ()),
    ("decoration", "装修前需要办理哪些手续？",
     "<p>请先到物业服务中心办理装修登记：提交装修方案、施工单位资料，签署装修管理协议。"
     "承重墙、梁柱、外立面和公共管道不得拆改，空调外机须安装在预留位置。</p>", ()),
    ("decoration", "装修时可以改动卫生间的防水吗？",
     "<p>不建议改动。如确需改动，必须重新做防水并进行 48 小时闭水试验，验收合格后再铺贴饰面。"
     "因自行改动造成的渗漏不在保修范围内，给邻居造成损失的需自行承担。</p>", ()),
    ("decoration", "装修施工有时间限制吗？",
     "<p>有。工作日 8:00–12:00、14:00–18:00 可以施工；周末和法定节假日不得进行电钻、切割等产生噪声的施工。"
     "具体以物业服务中心的装修管理规定为准。</p>", ()),
    ("decoration", "映月澜庭 6 号楼洋房的露台可以封闭吗？",
     "<p>不可以。露台封闭会改变建筑外立面，须符合规划要求并经业主共同决定，擅自封闭将被要求恢复原状。"
     "可以摆放可移动的遮阳设施和绿植。</p>", ("HZ-YYLT",)),
    ("repairs", "卫生间漏水怎么办？",
     "<p>请先关闭卫生间角阀或户内进水总阀，擦干积水，避免渗到楼下；然后拨打客服热线或在线报修，并附上照片。</p>"
     "<p>派单后，维修单位会在 <b>30 分钟内</b>与您联系预约上门；大面积漏水按紧急报修处理，30 分钟内到场。"
     "防水渗漏在 5 年保修期内免费维修。</p>", ()),
    ("repairs", "报修后多久会有人联系我？",
     "<p>工单派出后 30 分钟内，维修单位会电话联系您预约上门时间；"
     "常规维修一般 48 小时内完成，停水、停电、电梯困人等紧急情况 30 分钟内到场。</p>", ()),
    ("repairs", "维修完成后还会回访吗？没修好怎么办？",
     "<p>维修完成后请您签字确认。3 个工作日内客服会电话回访，您的评价直接计入维修单位的考核。</p>"
     "<p>每项维修只给维修单位一次机会：没有修好或逾期未修，我们会改派第三方维修单位处理。</p>", ()),
    ("repairs", "房屋各部位的保修期是多久？",
     "<p>按《住宅质量保证书》和国家规定，常见部位的最低保修期为：</p><ul>"
     "<li>地基基础和主体结构：设计文件规定的合理使用年限；</li>"
     "<li>屋面防水，有防水要求的卫生间、房间和外墙面的防渗漏：5 年；</li>"
     "<li>电气管线、给排水管道、设备安装和装修工程：2 年；</li>"
     "<li>供热与供冷系统：2 个采暖期、供冷期。</li></ul><p>保修期自交付之日起计算。</p>", ()),
    ("repairs", "保修期快到了，还有问题没修好怎么办？",
     "<p>在保修期届满前 <b>2 个月</b>，我们会通过短信和电话提醒业主。请在提醒后把仍存在的问题集中报修，"
     "我们会登记后派给责任施工单位并限期完成。</p>", ()),
    ("repairs", "投诉多久能得到答复？",
     "<p>投诉登记后 2 小时内确认受理，<b>24 小时内</b>答复处理结果；一时无法解决的，也会在 24 小时内告诉您目前的进展和下一步安排。"
     "结案后 24 小时内回访，7 日内现场复查。</p>", ()),
    ("repairs", "停水停电或电梯困人怎么办？",
     "<p>电梯困人请按轿厢内的紧急呼叫按钮，保持冷静，不要强行扒门；停水、停电请拨打物业服务中心 24 小时值班电话或客服热线。"
     "紧急情况立即派单，维修人员 30 分钟内到场。</p>", ()),
    ("repairs", "怎样查看报修或投诉的处理进度？",
     "<p>每张工单都有处理记录：受理、派单、上门、完成、回访。您可以凭手机号查询，也可以拨打热线由客服告知，无需反复催办。</p>", ()),
    ("property_fees", "物业费从什么时候开始计算？",
     "<p>按物业服务合同约定，一般自入住通知书载明的交付之日起计收。"
     "因房屋质量问题未能收房并已登记整改的，整改期间的处理方式以物业服务合同为准。</p>", ()),
    ("property_fees", "物业费包括哪些服务？",
     "<p>包括公共区域清洁、绿化养护、秩序维护、共用设施设备的日常运行和维护、电梯年检等。"
     "户内维修、车位服务等另行约定。收费标准在物业服务中心公示。</p>", ()),
    ("property_fees", "房屋空置可以少交物业费吗？",
     "<p>空置房屋的物业费按物业服务合同和当地物业收费规定执行；可减免的，请携带相关资料到物业服务中心办理。</p>", ()),
    ("certificates", "不动产权证什么时候可以办理？",
     "<p>项目完成首次登记后，我们会通知业主提交办证资料，统一办理或指导您自行办理。"
     "办理时间受登记机关进度影响，以办证通知为准。</p>", ()),
    ("certificates", "办理不动产权证需要准备什么？",
     "<p>一般需要购房合同、购房发票、身份证、户口簿、婚姻状况证明和契税完税凭证；"
     "贷款购房的还需银行出具的相关材料。具体以当地不动产登记中心的要求为准。</p>", ()),
    ("certificates", "办证需要缴纳哪些费用？",
     "<p>主要是契税和不动产登记费，部分城市在交付时代收专项维修资金。税费标准按国家和当地政策执行，"
     "我们会在办证通知中列明。</p>", ()),
    ("community", "小区配套的学校和幼儿园怎么安排？",
     "<p>学校和幼儿园的建设和招生以政府规划及教育部门公布的信息为准，我们不作入学承诺。"
     "如有最新消息，我们会在项目主页及时更新。</p>", ()),
    ("community", "快递和外卖能送进小区吗？",
     "<p>小区实行门禁管理。快递可存放在小区的智能快递柜，外卖由骑手送至单元门口或由业主到大门领取，"
     "具体安排以物业服务中心通知为准。</p>", ()),
    ("community", "锦江悦府的地下车位什么时候可以使用？",
     "<p>3、5 号楼交付后，地下车库同步投入使用；已购或已租车位的业主在物业服务中心登记车牌后即可进出。"
     "车库预留充电桩条件，加装充电桩需向物业服务中心申请。</p>", ("CD-JJYF",)),
)


# --- Adverse factors --------------------------------------------------------------------------
# (category, title, inside the boundary, distance in metres, direction, description, photo key)

ADVERSE_FACTORS = {
    "HZ-YYLT": (
        ("noise", "映月路（城市次干道）", False, 15, "北侧",
         "项目北侧紧邻映月路，为双向四车道城市次干道，早晚高峰车流量较大，临路房屋可能受交通噪声影响。", None),
        ("noise", "城西快速路高架段", False, 420, "东侧",
         "项目东侧约 420 米为城西快速路高架段，夜间货车通行时可能听到交通噪声。", None),
        ("radiation", "小区开闭所及变配电房", True, 18, "3 号楼北侧",
         "小区红线内设有 10kV 开闭所及变配电房，位于 3 号楼北侧约 18 米，按国家标准设计和建设。", None),
        ("odour", "小区垃圾收集房", True, 25, "西北角",
         "垃圾收集房位于小区西北角，距 6 号楼约 25 米，每日清运，夏季可能有异味。", None),
        ("religious", "良安寺", False, 900, "西侧",
         "项目西侧约 900 米有寺庙一座，农历初一、十五及节庆期间香客较多，周边道路较拥堵。", None),
        ("taboo", "公墓", False, 1800, "东北侧",
         "项目东北侧约 1.8 公里山坡上有公墓，清明节前后周边道路车流增多。", None),
        ("planned_change", "规划地铁站及公交首末站", False, 200, "南侧",
         "根据现行规划，项目南侧约 200 米规划有地铁站和公交首末站，建设时间和最终方案以政府批准为准，建设期间可能产生施工噪声。", None),
    ),
    "CD-JJYF": (
        ("noise", "铁路货运专线", False, 150, "北侧",
         "项目北侧约 150 米为铁路货运专线，列车通过时有噪声和轻微振动，夜间亦有列车通行。", None),
        ("noise", "规划小学", False, 60, "南侧",
         "项目南侧约 60 米为规划小学用地，建成后课间、广播和体育活动可能产生噪声。学校建设以教育部门安排为准。", None),
        ("noise", "地下车库出入口", True, 12, "5 号楼东侧",
         "小区红线内地下车库出入口位于 5 号楼东侧约 12 米，车辆进出时可能有噪声和灯光影响。", None),
        ("radiation", "220kV 高压输电线路", False, 120, "东侧",
         "项目东侧约 120 米有 220kV 高压输电线路及铁塔经过，线路走廊按国家标准退让。", "cd-powerline"),
        ("radiation", "屋面通信基站", True, 0, "6 号楼屋面",
         "根据通信网络覆盖要求，6 号楼屋面预留通信基站设备位置，由通信运营商按国家标准建设和检测。", None),
        ("pollution", "混凝土搅拌站", False, 1200, "西南侧",
         "项目西南侧约 1.2 公里有混凝土搅拌站，大风天气可能有扬尘。", None),
        ("odour", "污水处理厂", False, 2500, "东南侧",
         "项目东南侧约 2.5 公里为城市污水处理厂，特定风向和气压条件下可能闻到异味。", None),
        ("planned_change", "西侧商业用地", False, 80, "西侧",
         "项目西侧约 80 米地块规划为商业用地，未来可能建设高层商业建筑，对部分房屋的视野和采光产生影响，以规划部门批准的方案为准。", None),
    ),
}


# --- Service pages ----------------------------------------------------------------------------
# (slug, title, intro, image key, blocks as (type, value))

STANDARD_PAGES = (
    (
        "repair-guide", "报修流程说明", "从报修到回访，每一步都有时限，每张工单都可以查询进度。", "repair",
        (
            ("heading", "一、怎样报修"),
            ("paragraph", "<ol><li>拨打客服热线 400-000-5100（夜间紧急报修由物业服务中心 24 小时值班）；</li>"
                          "<li>在网站填写报修表单，可上传 6 张以内的照片；</li>"
                          "<li>到物业服务中心或客服接待点登记。</li></ol>"
                          "<p>不论通过哪种方式，报修都会统一登记为工单，由客服部统一派单和跟进。</p>"),
            ("heading", "二、处理时限"),
            ("paragraph", "<ul><li>派单后 <b>30 分钟内</b>，维修单位与您联系预约上门；</li>"
                          "<li>停水、停电、电梯困人等紧急情况 30 分钟内到场，24 小时内解决；</li>"
                          "<li>常规维修 48 小时内完成；</li>"
                          "<li>维修完成后请您签字确认，<b>3 个工作日内</b>客服电话回访。</li></ul>"),
            ("image", ("repair", "报修、派单、上门、完成、回访：每一步都记录在工单上")),
            ("heading", "三、一次修好"),
            ("paragraph", "<p>每项维修只给维修单位一次机会：没有修好或逾期未修，我们会改派第三方维修单位，"
                          "回访结果直接计入维修单位的考核。同一房屋同类问题 90 天内再次报修的，会作为重复维修重点跟踪。</p>"),
            ("heading", "四、保修期届满提醒"),
            ("paragraph", "<p>保修期届满前 2 个月，我们会提醒您把仍存在的问题集中报修，统一派给责任施工单位限期完成。</p>"),
        ),
    ),
    (
        "service-promise", "客户服务承诺", "一个热线受理，限时答复，结果回访：我们对业主的服务承诺。", "service",
        (
            ("paragraph", "<p>安居坚持报修、投诉、咨询“一个入口、统一受理”，不让业主多头跑、反复问。</p>"),
            ("heading", "我们承诺"),
            ("paragraph", "<ul><li>投诉 2 小时内确认受理，<b>24 小时内</b>答复处理结果或当前进展；</li>"
                          "<li>投诉和报修 72 小时解决率不低于 95%；</li>"
                          "<li>投诉结案后 24 小时内回访，7 日内现场复查；</li>"
                          "<li>交付期间收房率不低于 98%，交付满意度不低于 95%；</li>"
                          "<li>每年开展满意度调查，覆盖 90% 以上的住户，调查结果用于改进服务。</li></ul>"),
            ("image", ("service", "客户服务中心：热线、在线表单和现场接待统一受理")),
            ("heading", "监督渠道"),
            ("paragraph", "<p>对处理结果不满意，可以要求升级处理，由客服经理跟进。"
                          "需要赔付的，我们会按审批流程处理并书面告知结果。</p>"),
        ),
    ),
)

HOME_INTRO = (
    "<p>安居业主服务平台为准业主和业主提供一站式服务：查看所购楼栋的工程进展，报名工地开放日和模拟验房，"
    "查阅常见问题和不利因素公示。报修、投诉、咨询统一受理，处理进度随时可查。</p>"
)
INDEX_PAGES = (
    # (model, slug, title, intro)
    (ProgressBulletinIndexPage, "bulletins", "工程进展", "按月发布各项目的工程进展，附现场照片和各楼栋完成比例。"),
    (OpenDayIndexPage, "open-days", "开放日活动", "工地开放日和模拟验房在线报名，名额有限，报满即止。"),
    (FAQIndexPage, "faq", "常见问题",
     "购房、贷款、交房验房、装修、报修保修、物业费、办证和社区配套的常见问题解答。"),
)


# --- The seeder -------------------------------------------------------------------------------


def _publish(page):
    page.save_revision().publish()
    return page


class PortalSeeder:
    def __init__(self, today):
        self.today = today
        self.created = Counter()
        self.images = ImageLibrary(self.created)
        self.notes = []

    def add_page(self, parent, page):
        page.live = False  # publish() below makes it live, with a revision
        parent.add_child(instance=page)
        _publish(page)
        self.created["pages"] += 1
        return page

    def run(self):
        home = HomePage.objects.order_by("path").first()
        if home is None:
            self.notes.append("没有首页（HomePage），跳过门户内容。")
            return self.created
        projects = self.projects()
        self.home_page(home)
        children = {page.slug: page for page in home.get_children().specific()}
        indexes = {model: self.index_page(home, children, model, slug, title, intro)
                   for model, slug, title, intro in INDEX_PAGES}
        self.standard_pages(home, children)
        self.project_pages(home, children, projects)
        if indexes[ProgressBulletinIndexPage] is not None:
            self.bulletins(indexes[ProgressBulletinIndexPage], projects)
        if indexes[OpenDayIndexPage] is not None:
            self.open_days(indexes[OpenDayIndexPage], projects)
        self.faqs(projects)
        self.adverse_factors(projects)
        return self.created

    # Registry ---------------------------------------------------------------------------------

    def projects(self):
        """The demo projects by code, created with their buildings if the registry lacks them."""
        found = {p.code: p for p in Project.objects.filter(code__in=PROJECTS)}
        for code, spec in PROJECTS.items():
            if code in found:
                continue
            project = Project.objects.create(
                code=code, name=spec["name"], city=spec["city"], address=spec["address"],
                hotline=spec["hotline"],
            )
            for building_code, floors in spec["buildings"]:
                Building.objects.create(project=project, code=building_code, name=f"{building_code}号楼",
                                        floors=floors)
            found[code] = project
            self.created["projects"] += 1
        return found

    # Pages ------------------------------------------------------------------------------------

    def home_page(self, home):
        """Fill the intro and hotline only while they are what migration 0002 left: the page
        has never been saved through Wagtail (no revision) and the fields hold the defaults."""
        if home.latest_revision_id is not None:
            return
        changed = False
        if not (home.intro or "").strip():
            home.intro = HOME_INTRO
            changed = True
        if home.hotline == MIGRATION_HOTLINE:
            home.hotline = HOTLINE
            changed = True
        if changed:
            _publish(home)
            self.created["home"] += 1

    def index_page(self, home, children, model, slug, title, intro):
        for page in children.values():  # at most one of each (max_count = 1), whatever its slug
            if isinstance(page, model):
                return page
        if slug in children:
            self.notes.append(f"首页下的“{slug}”已被其他页面占用，跳过{model._meta.verbose_name}。")
            return None
        page = self.add_page(home, model(title=title, slug=slug, intro=intro))
        children[slug] = page
        return page

    def standard_pages(self, home, children):
        for slug, title, intro, image_key, blocks in STANDARD_PAGES:
            if slug in children:
                continue
            page = StandardPage(title=title, slug=slug, intro=intro, body=self.body(blocks))
            page.share_image = self.images[image_key]
            children[slug] = self.add_page(home, page)

    def project_pages(self, home, children, projects):
        with_page = set(
            ProjectPage.objects.filter(project__in=projects.values()).values_list("project_id", flat=True)
        )
        for code, spec in PROJECTS.items():
            project = projects[code]
            slug = code.lower()
            if project.pk in with_page or slug in children:
                continue
            milestones = []
            for months, day, title, description in spec["milestones"]:
                when = month_day(self.today, months, day)
                milestones.append(("milestone", {"date": when, "title": title, "description": description,
                                                 "done": when <= self.today}))
            milestones.sort(key=lambda item: item[1]["date"])
            page = ProjectPage(
                title=project.name, slug=slug, project=project, hero_image=self.images[spec["hero"]],
                summary=spec["summary"], service_plan=spec["service_plan"],
                delivery_standard=spec["delivery_standard"], milestones=milestones,
            )
            children[slug] = self.add_page(home, page)

    def bulletins(self, index, projects):
        existing = set(index.get_children().values_list("slug", flat=True))
        for code, issues in BULLETINS.items():
            project = projects[code]
            slugs = [f"{code.lower()}-bulletin-{number}" for number in range(1, len(issues) + 1)]
            if all(slug in existing for slug in slugs):
                continue
            buildings = self.reported_buildings(project, PROJECTS[code]["reported"])
            for number, (slug, issue) in enumerate(zip(slugs, issues), start=1):
                if slug not in existing:
                    self.bulletin(index, project, number, slug, buildings, *issue)

    def reported_buildings(self, project, codes):
        """The buildings the bulletins report on; any project's own buildings if those are missing."""
        buildings = list(project.buildings.order_by("code"))
        chosen = [b for b in buildings if b.code in codes]
        return chosen or buildings[:6]

    def bulletin(self, index, project, number, slug, buildings, months, stage, summary, paragraphs,
                 gallery, image, percents):
        month = month_day(self.today, months, 1)
        issue_date = min(month_day(self.today, months, 28), self.today)
        period = period_label(month)
        short_name = project.name.split("·")[-1]
        body = [("paragraph", f"<p>{paragraphs[0]}</p>"),
                ("gallery", (f"{period}现场照片", gallery)),
                ("paragraph", f"<p>{paragraphs[1]}</p>"),
                ("image", image)]
        page = ProgressBulletinPage(
            title=f"{short_name}客户通讯第 {number} 期（{period}）", slug=slug, project=project,
            issue_date=issue_date, period=period, stage=stage, summary=summary,
            cover_image=self.images[gallery[0][0]], body=self.body(body),
        )
        fallback = max(percents.values())
        for building in buildings:
            percent = percents.get(building.code, fallback)
            page.progress.add(BuildingProgress(building=building, percent=percent,
                                               note=progress_note(percent, building.floors)))
        self.add_page(index, page)

    def body(self, blocks):
        """StreamField content from (type, value): image values are (key, caption), galleries
        (title, [(key, caption), …]), paragraphs HTML, headings text."""
        content = []
        for kind, value in blocks:
            if kind == "paragraph":
                content.append(("paragraph", RichText(value)))
            elif kind == "heading":
                content.append(("heading", value))
            elif kind == "image":
                content.append(("image", self.captioned(*value)))
            elif kind == "gallery":
                title, items = value
                images = [self.captioned(*item) for item in items]
                content.append(("gallery", {"title": title, "images": images}))
        return content

    def captioned(self, key, caption):
        return {"image": self.images[key], "caption": caption, "alt": self.images.alt(key)}

    def open_days(self, index, projects):
        existing = set(index.get_children().values_list("slug", flat=True))
        for code, slug, kind, title, intro, place, bring, image_key, slots in OPEN_DAYS:
            if slug in existing:
                continue
            page = OpenDayPage(title=title, slug=slug, project=projects[code], kind=kind, intro=intro,
                               place=place, what_to_bring=bring, share_image=self.images[image_key])
            for weekday, at_least, start, end, capacity, party in slots:
                page.slots.add(OpenDaySlot(date=next_weekday(self.today, weekday, at_least), start=start,
                                           end=end, capacity=capacity, max_party_size=party))
            self.add_page(index, page)

    # Snippets ---------------------------------------------------------------------------------

    def faqs(self, projects):
        questions = [question for _category, question, _answer, _codes in FAQS]
        existing = set(FAQ.objects.filter(question__in=questions).values_list("question", flat=True))
        order = Counter()
        for category, question, answer, codes in FAQS:
            order[category] += 10
            if question in existing:
                continue
            faq = FAQ(question=question, answer=answer, category=category, sort_order=order[category])
            faq.save()
            faq.save_revision().publish()
            if codes:
                faq.projects.set([projects[code] for code in codes])
            self.created["faqs"] += 1

    def adverse_factors(self, projects):
        existing = set(
            AdverseFactor.objects.filter(project__in=projects.values()).values_list("project_id", "title")
        )
        for code, factors in ADVERSE_FACTORS.items():
            project = projects[code]
            for category, title, inside, distance, direction, description, photo in factors:
                if (project.pk, title) in existing:
                    continue
                factor = AdverseFactor(
                    project=project, category=category, title=title, inside_boundary=inside,
                    distance_m=distance, direction=direction, description=description,
                    photo=self.images[photo] if photo else None,
                )
                factor.save()
                factor.save_revision().publish()
                self.created["adverse_factors"] += 1


@contextmanager
def index_once():
    """Update the search index and Wagtail's reference index once per saved object, at the end.

    Publishing saves a page or snippet two to four times and each save re-indexes it (jieba
    segmentation included): most of the seeding time. Inside this block the search index's
    post_save handler is disconnected (process-wide, for the second or two the block lasts),
    the reference index is paused (thread-local, Wagtail's own switch), and every object saved
    is then indexed once, by the same tasks the signal handlers would have run.
    """
    searchable = {m for m in search_index.get_indexed_models() if getattr(m, "search_auto_update", True)}
    to_search, to_reference = {}, {}

    def remember(sender, instance, raw=False, **kwargs):
        key = (sender._meta.app_label, sender._meta.model_name, str(instance.pk))
        if not raw and sender in searchable:
            to_search[key] = True
        if not raw and sender in ReferenceIndex.tracked_models:
            to_reference[key] = True

    for model in searchable:
        post_save.disconnect(post_save_signal_handler, sender=model)
    post_save.connect(remember, weak=False, dispatch_uid="anju-demo-index-once")
    try:
        with disable_reference_index_auto_update():
            yield
    finally:
        post_save.disconnect(dispatch_uid="anju-demo-index-once")
        for model in searchable:
            post_save.connect(post_save_signal_handler, sender=model)
    for key in to_search:
        insert_or_update_object_task.call(*key)
    for key in to_reference:
        update_reference_index_task.call(*key)


LABELS = (("projects", "项目"), ("home", "首页"), ("pages", "页面"), ("images", "图片"),
          ("faqs", "常见问题"), ("adverse_factors", "不利因素"))


def seed_portal(stdout=None):
    """Build the portal's demo content (idempotent); returns what was created, by kind."""
    started = time.monotonic()
    seeder = PortalSeeder(timezone.localdate())
    with transaction.atomic(), index_once():
        created = seeder.run()
    elapsed = time.monotonic() - started
    if stdout is not None:
        for note in seeder.notes:
            stdout.write(note)
        if any(created.values()):
            parts = "、".join(f"{label} {created[key]}" for key, label in LABELS if created[key])
            stdout.write(f"门户演示内容：新增 {parts}，用时 {elapsed:.1f} 秒。")
        else:
            stdout.write(f"门户演示内容已全部存在，未新增任何内容（用时 {elapsed:.2f} 秒）。")
    return dict(created)
