"""Call-back satisfaction per contractor and the reward/penalty suggestion (figures.py), and the
scorecard that shows them — on a small data set checked by hand."""

from decimal import Decimal

import pytest
from django.urls import reverse

from plugins.cases import figures, services
from plugins.cases.figures import Row, Satisfaction, suggestion
from plugins.cases.models import Case
from plugins.cases.services import Actor
from tests.conftest import staff_with_perms

from .conftest import ALL_VERBS, contractor
from .test_admin_money import MONEY


@pytest.fixture
def quality(project, other_project):
    return staff_with_perms(*ALL_VERBS, *MONEY, projects=[project, other_project], username="quality")


def worked(new_case, who, by, **fields):
    """A repair dispatched to ``by``, completed and signed off."""
    case = services.dispatch(new_case(**fields), who, contractor=by)
    services.complete(case, who, "已修好")
    return services.sign_off(case, who, accepted=True)


@pytest.fixture
def data(new_case, quality, project, other_project):
    """By hand:

    甲 had four repairs in 钱塘雅苑: called back 5; rated 4 by the owner; failed once, then called
    back 2 (reopened), fixed again and called back 4; three failed attempts (given up, no score).
    Scores 5, 4, 2, 4: four scored, average 3.75, one below 3. First-time fixes 3 of 4 (75%).
    乙 had one repair, handed to 丙, who fixed it and was called back 5: it counts for 乙 (scored
    1, average 5), never for 丙. 甲's repair in 浦江云庭 was called back 1: only outside 钱塘雅苑.
    """
    first, second, third = contractor(name="甲"), contractor(name="乙"), contractor(name="丙")
    services.callback(worked(new_case, quality, first), quality, reached=True, score=5)
    services.rate(worked(new_case, quality, first), Actor.owner("王女士"), score=4)
    case = worked(new_case, quality, first)
    services.callback(case, quality, reached=False)
    services.callback(case, quality, reached=True, score=2)
    services.complete(case, quality, "重新处理")
    services.sign_off(case, quality, accepted=True)
    services.callback(case, quality, reached=True, score=4)
    case = worked(new_case, quality, first)
    for _ in range(3):
        services.callback(case, quality, reached=False)
    handed = services.dispatch(new_case(), quality, contractor=second)
    services.hand_to_third_party(handed, quality, third, "一次维修未成功")
    services.complete(handed, quality, "第三方修好")
    services.sign_off(handed, quality, accepted=True)
    services.callback(handed, quality, reached=True, score=5)
    elsewhere = services.register(quality, kind="repair", channel="hotline", project=other_project,
                                  reporter_name="张先生", reporter_mobile="13700137000", description="外墙渗水")
    elsewhere = worked(lambda: elsewhere, quality, first)
    services.callback(elsewhere, quality, reached=True, score=1)
    return {"甲": first, "乙": second, "丙": third}


def test_satisfaction_per_contractor_on_the_hand_checked_data(data, project, django_assert_num_queries):
    cases = Case.objects.filter(project=project)
    with django_assert_num_queries(1):
        found = figures.callback_satisfaction_by_contractor(cases)
    assert found == {data["甲"].pk: Satisfaction(4, 15, 1), data["乙"].pk: Satisfaction(1, 5, 0)}
    assert found[data["甲"].pk].average == 3.75
    everywhere = figures.callback_satisfaction_by_contractor(Case.objects.all())
    assert everywhere[data["甲"].pk] == Satisfaction(5, 16, 2)


def test_the_first_time_fix_rows_of_the_same_data(data, project):
    rows = {row.label: row for row in figures.first_time_fix_by_contractor(Case.objects.filter(project=project))}
    assert (rows["甲"].repairs, rows["甲"].first_time, rows["甲"].third_party) == (4, 3, 0)
    assert (rows["乙"].repairs, rows["乙"].first_time, rows["乙"].third_party) == (1, 0, 1)
    assert set(rows) == {"甲", "乙"}


def test_no_scored_callbacks_no_satisfaction(new_case, quality):
    worked(new_case, quality, contractor(name="甲"))
    assert figures.callback_satisfaction_by_contractor(Case.objects.all()) == {}
    assert figures.callback_satisfaction_by_contractor(Case.objects.none()) == {}


def row(repairs, first_time, third_party=0):
    return Row(1, "甲", repairs, first_time, third_party)


@pytest.mark.parametrize("figures_, satisfaction, expected", [
    (row(10, 10), Satisfaction(10, 45, 0), "reward"),  # 100%, average exactly 4.5
    (row(20, 19), Satisfaction(4, 18, 0), "reward"),  # exactly 95%
    (row(20, 18), Satisfaction(4, 20, 0), ""),  # 90%: neither
    (row(9, 9), Satisfaction(9, 45, 0), ""),  # fewer than 10 repairs
    (row(10, 10), None, ""),  # no call-back scored: no reward
    (row(10, 10), Satisfaction(10, 44, 0), ""),  # average 4.4
    (row(5, 4), Satisfaction(2, 7, 1), ""),  # exactly 80% and exactly 3.5: no penalty
    (row(100, 79), None, "penalty"),  # 79%
    (row(10, 10), Satisfaction(100, 349, 30), "penalty"),  # average 3.49
    (row(30, 30, third_party=1), Satisfaction(30, 150, 0), "penalty"),  # any hand-over
])
def test_the_suggestion_follows_the_documented_thresholds(figures_, satisfaction, expected):
    assert suggestion(figures_, satisfaction).kind == expected


def test_a_penalty_names_every_reason():
    found = suggestion(row(10, 5, third_party=2), Satisfaction(4, 8, 3))
    assert (found.kind, found.label) == ("penalty", "建议处罚")
    assert found.reasons == ("一次维修成功率低于 80%", "回访平均分低于 3.5", "转第三方 2 单")
    assert suggestion(row(10, 10), Satisfaction(10, 50, 0)).label == "建议奖励"
    assert suggestion(row(1, 1), None).label == "不奖不罚"
    assert (figures.REWARD_FIRST_TIME_PERCENT, figures.REWARD_AVERAGE, figures.REWARD_MIN_REPAIRS) == (
        95, Decimal("4.5"), 10)
    assert (figures.PENALTY_FIRST_TIME_PERCENT, figures.PENALTY_AVERAGE) == (80, Decimal("3.5"))


def test_the_scorecard_shows_satisfaction_and_the_suggestion(client, data, quality, project,
                                                             django_assert_max_num_queries):
    client.force_login(quality)
    client.get(reverse("cases_scorecard"), {"project": project.pk})  # the menu's counts are cached from here on
    with django_assert_max_num_queries(16):  # satisfaction: one query for the whole table
        response = client.get(reverse("cases_scorecard"), {"project": project.pk})
    assert response.status_code == 200
    items = {item["row"].label: item for item in response.context["contractors"]}
    assert items["甲"]["satisfaction"] == Satisfaction(4, 15, 1)
    assert items["甲"]["suggestion"].reasons == ("一次维修成功率低于 80%",)
    assert items["乙"]["suggestion"].reasons == ("一次维修成功率低于 80%", "转第三方 1 单")
    page = response.content.decode()
    for text in ("回访平均分", "低于3分", "奖罚建议", "3.75", "5.00", "建议处罚", "一次维修成功率低于 80%",
                 "不少于 10 单", "不低于 95%", "不低于 4.5 分", "低于 3.5 分"):
        assert text in page, text


def test_the_scorecard_without_scores_shows_dashes(client, new_case, quality, project):
    worked(new_case, quality, contractor(name="甲"))
    client.force_login(quality)
    response = client.get(reverse("cases_scorecard"), {"project": project.pk})
    [item] = response.context["contractors"]
    assert item["satisfaction"] is None and item["suggestion"].kind == ""
    assert "不奖不罚" in response.content.decode()
