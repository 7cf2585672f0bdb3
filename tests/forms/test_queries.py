"""Query counts of the owner's form page: the same with a small and a large registry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.forms.conftest import add_form_page, make_estate

pytestmark = pytest.mark.django_db

# Wagtail's own serving costs 6 queries for a page under the home page and 8 under a project
# page (site, a child and a specific lookup per level, view restrictions); the form adds the
# projects, the editor's fields, and the buildings and units of the chosen project/building.


def grow(estate, projects=30, buildings=10, units=60):
    for n in range(projects):
        factories.ProjectFactory(code=f"X{n:03d}", name=f"扩展项目{n}")
    for b in range(buildings):
        building = factories.BuildingFactory(project=estate.project, code=str(10 + b), name=f"{10 + b}号楼")
        factories.UnitFactory.create_batch(units // 10, building=building)
    factories.UnitFactory.create_batch(units, building=estate.building)


def count(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    "where, params, most",
    [
        ("home", {}, 8),
        ("home", {"project": "HZ01"}, 9),
        ("home", {"unit": "UNIT"}, 11),
        ("project", {}, 11),
        ("project", {"unit": "UNIT"}, 13),
        ("home", {"choices": "1", "project": "PROJECT", "building": "BUILDING"}, 9),
    ],
)
def test_form_page_queries_small_and_large(
    client, portal, estate, where, params, most, django_assert_max_num_queries
):
    from tests.portal import add_project_page

    parent = portal.home if where == "home" else add_project_page(portal, estate.project)
    page = add_form_page(parent, slug=f"repair-{where}", fields=[("期望上门时间", "singleline", False)])
    substitutes = {"UNIT": estate.unit.pk, "PROJECT": estate.project.pk, "BUILDING": estate.building.pk}
    params = {key: substitutes.get(value, value) for key, value in params.items()}
    client.get(page.url, params)  # warm Wagtail's site-root cache like a running server
    with django_assert_max_num_queries(most):
        small = count(client, page.url, params)
    grow(estate)
    make_estate("NB02", "甬江花园")
    with django_assert_max_num_queries(most):
        large = count(client, page.url, params)
    assert small == large
