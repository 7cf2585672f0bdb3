"""The case list's columns (plugins/cases/columns.py): the same cells Wagtail's templates would
write, without a template per cell."""

import re

from django.utils import translation
from django.utils.timezone import localtime

from plugins.cases import services
from plugins.cases.columns import ChoiceColumn, NumberColumn, case_list_columns
from tests.conftest import staff_with_perms

from .test_admin import LIST_URL, html


def rows(response):
    body = html(response)
    return re.findall(r"<tr>\s*(.*?)\s*</tr>", body[body.index("<tbody"):], re.S)


def cells(row):
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_a_row_shows_the_case_with_the_mobile_masked(client, agent, new_case):
    case = new_case(reporter_mobile="13800138000")
    services.dispatch(case, agent, assignee=agent)
    client.force_login(agent)
    [row] = rows(client.get(LIST_URL))
    assert cells(row) == [
        "", case.number, "报修", "", "一般", "已派单", "钱塘雅苑", case.unit.label,
        "王女士 138****8000", "agent", localtime(case.registered_at).strftime("%Y-%m-%d %H:%M"),
    ]
    assert f'href="/admin/snippets/cases/case/inspect/{case.pk}/"' in row
    assert f'id="snippet_{case.pk}_title"' in row and f'aria-describedby="snippet_{case.pk}_title"' in row


def test_the_bulk_checkbox_is_only_for_staff_who_may_dispatch(client, project, new_case):
    new_case()
    viewer = staff_with_perms("cases.view_case", projects=[project], username="viewer")
    client.force_login(viewer)
    [row] = rows(client.get(LIST_URL))
    assert "bulk-action-checkbox" not in row and len(cells(row)) == 10


def test_text_is_escaped(client, agent, new_case):
    new_case(reporter_name="<b>王</b>")
    client.force_login(agent)
    [row] = rows(client.get(LIST_URL))
    assert "&lt;b&gt;王&lt;/b&gt;" in row and "<b>" not in row


def test_choice_labels_follow_the_language(new_case):
    case = new_case()
    column = ChoiceColumn("status")
    with translation.override("en"):
        english = column.render_cell_html(case, {})
    assert column.render_cell_html(case, {}) == "<td>已登记</td>"
    assert english == "<td>Registered</td>"


def test_headings_are_the_fields_names_and_sort_by_them():
    columns = {column.name: column for column in case_list_columns("wagtailsnippets_cases_case:inspect")}
    assert str(columns["number"].label) == "工单号" and columns["number"].sort_key == "number"
    assert isinstance(columns["number"], NumberColumn)
    assert columns["reporter"].sort_key is None
    assert columns["assignee"].sort_key == "assignee__username"
