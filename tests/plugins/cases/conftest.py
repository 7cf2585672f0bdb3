import pytest

from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, OwnerFactory, OwnershipFactory, ProjectFactory, UnitFactory

ALL_VERBS = (
    "cases.add_case", "cases.handle_case", "cases.dispatch_case", "cases.callback_case",
    "cases.close_case", "cases.manage_case",
)


@pytest.fixture
def project(db):
    return ProjectFactory(code="HZ01", name="钱塘雅苑")


@pytest.fixture
def other_project(db):
    return ProjectFactory(code="SH02", name="浦江云庭")


@pytest.fixture
def unit(project):
    return UnitFactory(building=BuildingFactory(project=project, code="3"))


@pytest.fixture
def agent(project):
    """A call-centre agent serving HZ01 with every case verb."""
    return staff_with_perms(*ALL_VERBS, projects=[project], username="agent")


@pytest.fixture
def new_case(agent, project, unit):
    from plugins.cases import services

    def make(**overrides):
        fields = dict(
            kind="repair", channel="hotline", project=project, unit=unit,
            reporter_name="王女士", reporter_mobile="138 0013 8000", description="卫生间天花板漏水",
        )
        fields.update(overrides)
        return services.register(agent, **fields)

    return make


def contractor(**fields):
    """A contractor working on every project that exists now (dispatch refuses one that does
    not serve the case's project)."""
    from estates.models import Project
    from tests.factories import ContractorFactory

    fields.setdefault("projects", list(Project.objects.all()))
    return ContractorFactory(**fields)


# --- 来电登记 (test_intake_*): the caller's home and the category they call about -----------------

#: The owner's mobile in the intake tests.
MOBILE = "13900000001"


@pytest.fixture
def building(unit):
    """Building 3 of HZ01 (the conftest's unit is 3-1-15xx there)."""
    return unit.building


@pytest.fixture
def home(building):
    """3-2-1502 of HZ01."""
    return UnitFactory(building=building, entrance="2", number="1502")


@pytest.fixture
def owner(home):
    owner = OwnerFactory(name="王芳", mobile=MOBILE)
    OwnershipFactory(owner=owner, unit=home)
    return owner


@pytest.fixture
def plumbing(db):
    from plugins.cases.models import Category

    return Category.objects.get(code="daily-plumbing")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client
