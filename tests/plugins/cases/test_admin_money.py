"""The ledger, compensation and scorecard screens: read-only, scoped to the user's projects."""

from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse

from plugins.cases import services
from tests.conftest import staff_with_perms

from .conftest import ALL_VERBS, contractor

LEDGER = "wagtailsnippets_cases_depositcharge:list"
COMPENSATIONS = "wagtailsnippets_cases_compensation:list"
MONEY = ("cases.view_depositcharge", "cases.add_depositcharge", "cases.view_compensation", "cases.add_compensation")


@pytest.fixture
def quality(project):
    return staff_with_perms(*ALL_VERBS, *MONEY, projects=[project], username="quality")


def charged_case(new_case, quality, amount="880"):
    first = contractor(name="甲建筑", warranty_deposit=Decimal("20000"))
    case = new_case()
    services.dispatch(case, quality, contractor=first)
    services.hand_to_third_party(case, quality, contractor(name="乙维修"), "验收不通过")
    services.charge_deposit(case, quality, amount=amount, evidence="乙维修报价单")
    return case


def test_the_ledger_lists_charges_with_a_link_to_the_case(client, new_case, quality):
    case = charged_case(new_case, quality)
    client.force_login(quality)
    page = client.get(reverse(LEDGER)).content.decode()
    assert "乙维修报价单" in page and case.number in page
    assert reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,)) in page


def test_the_ledger_has_no_add_edit_or_delete(client, new_case, quality, admin_client):
    charged_case(new_case, quality)
    for name in ("add", "edit", "delete"):
        try:
            url = reverse(f"wagtailsnippets_cases_depositcharge:{name}", args=() if name == "add" else (1,))
        except NoReverseMatch:
            continue
        assert admin_client.get(url).status_code in (302, 403, 404), name
        assert admin_client.post(url, {"amount": "1"}).status_code in (302, 403, 404), name


def test_another_projects_staff_see_none_of_it(client, new_case, quality, other_project):
    charged_case(new_case, quality)
    services.request_compensation(new_case(), quality, amount=50, reason="误工补偿")
    outsider = staff_with_perms(*MONEY, projects=[other_project], username="outsider")
    client.force_login(outsider)
    assert "乙维修报价单" not in client.get(reverse(LEDGER)).content.decode()
    assert "误工补偿" not in client.get(reverse(COMPENSATIONS)).content.decode()
    page = client.get(reverse("cases_scorecard")).content.decode()
    assert "甲建筑" not in page


def test_compensations_are_listed_for_approvers(client, new_case, quality):
    services.request_compensation(new_case(), quality, amount=120, reason="泡坏地毯")
    client.force_login(quality)
    page = client.get(reverse(COMPENSATIONS), {"state": "requested"}).content.decode()
    assert "泡坏地毯" in page and "待审批" in page


def test_the_scorecard_shows_the_first_time_fix_rate_and_deposit(client, new_case, quality):
    charged_case(new_case, quality)
    client.force_login(quality)
    response = client.get(reverse("cases_scorecard"))
    assert response.status_code == 200
    [row] = response.context["contractors"]
    assert (row["row"].label, row["row"].repairs, row["row"].first_time, row["row"].third_party) == ("甲建筑", 1, 0, 1)
    assert row["deposit"] == (Decimal("20000.00"), Decimal("880.00"), Decimal("19120.00"))
    assert "19120" in response.content.decode() and "计算方法" in response.content.decode()


def test_the_scorecard_refuses_bad_dates_and_users_without_permission(client, quality, agent):
    client.force_login(quality)
    response = client.get(reverse("cases_scorecard"), {"start": "2026-05-01", "end": "2026-01-01"})
    assert response.status_code == 200 and "开始日期不能晚于结束日期" in response.content.decode()
    response = client.get(reverse("cases_scorecard"), {"start": "not-a-date"})
    assert response.status_code == 200 and response.context.get("contractors") is None
    client.force_login(agent)
    assert client.get(reverse("cases_scorecard")).status_code in (302, 403)
