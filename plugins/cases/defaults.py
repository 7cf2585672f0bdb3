"""The shipped defaults (DOMAIN.md) created on migrate: the category tree, the 24×7 and office
calendars, and the public holidays and make-up working days ``chinesecalendar`` knows.

Used by a data migration, so it runs once per database: later edits and deletions by an
administrator stay as they are. Functions take the migration's historical models (``apps``).
"""

import datetime as dt

# (kind, code, name, emergency, children: [(code, name, emergency)])
CATEGORIES = [
    ("repair", "daily", "日常维修", False, [
        ("daily-plumbing", "给排水", False),
        ("daily-electrical", "强弱电", False),
        ("daily-doors-windows", "门窗", False),
        ("daily-walls-floors", "墙地面", False),
        ("daily-waterproofing", "渗漏水", False),
        ("daily-fittings", "厨卫设施", False),
    ]),
    ("repair", "public", "公共区域", False, [
        ("public-lift", "电梯", False),
        ("public-lighting", "公区照明", False),
        ("public-landscape", "园林绿化", False),
        ("public-parking", "车库道路", False),
        ("public-facade", "外立面", False),
    ]),
    ("repair", "emergency", "紧急维修", True, [
        ("emergency-water", "爆管停水", True),
        ("emergency-power", "停电", True),
        ("emergency-lift", "电梯困人", True),
        ("emergency-fire", "火情", True),
    ]),
    ("enquiry", "enquiry", "咨询代办", False, [
        ("enquiry-handover", "交付入住", False),
        ("enquiry-certificate", "办证", False),
        ("enquiry-fees", "物业费用", False),
        ("enquiry-decoration", "装修", False),
        ("enquiry-other", "其他咨询", False),
    ]),
    ("complaint", "complaint", "投诉", False, [
        ("complaint-facilities", "设施设备", False),
        ("complaint-quality", "房屋质量", False),
        ("complaint-attitude", "服务态度", False),
        ("complaint-fees", "收费争议", False),
        ("complaint-promise", "承诺兑现", False),
    ]),
]

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
FIRST_YEAR = 2020  # older years matter to no open case

OFFICE_START, OFFICE_END = dt.time(8, 30), dt.time(17, 30)


def create_categories(apps):
    Category = apps.get_model("cases", "Category")
    for order, (kind, code, name, emergency, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            code=code, defaults={"kind": kind, "name": name, "emergency": emergency, "sort_order": order}
        )
        for child_order, (child_code, child_name, child_emergency) in enumerate(children):
            Category.objects.get_or_create(
                code=child_code,
                defaults={"kind": kind, "parent": parent, "name": child_name,
                          "emergency": child_emergency, "sort_order": child_order},
            )


def create_calendars(apps):
    WorkCalendar = apps.get_model("cases", "WorkCalendar")
    WorkCalendarHours = apps.get_model("cases", "WorkCalendarHours")
    WorkCalendar.objects.get_or_create(code="always", defaults={"name": "全天候（7×24）", "always": True})
    office, created = WorkCalendar.objects.get_or_create(code="office", defaults={"name": "工作日 8:30–17:30"})
    if created:
        WorkCalendarHours.objects.bulk_create(
            WorkCalendarHours(calendar=office, weekday=day, start=OFFICE_START, end=OFFICE_END) for day in range(5)
        )


def create_holidays(apps):
    import chinese_calendar

    WorkCalendarDay = apps.get_model("cases", "WorkCalendarDay")
    known = set(WorkCalendarDay.objects.values_list("date", flat=True))
    rows = []
    for kind, days in (("holiday", chinese_calendar.holidays), ("workday", chinese_calendar.workdays)):
        for day, name in days.items():
            if day.year >= FIRST_YEAR and day not in known:
                rows.append(WorkCalendarDay(date=day, kind=kind, name=HOLIDAY_NAMES.get(name, name)))
    WorkCalendarDay.objects.bulk_create(rows)


def create_all(apps, schema_editor=None):
    create_categories(apps)
    create_calendars(apps)
    create_holidays(apps)
