"""factory_boy factories for the registry. Mobiles and ID numbers are valid by construction."""

import factory
from django.contrib.auth import get_user_model

from estates import models
from estates.normalize import ID_CHECK_CHARS, ID_WEIGHTS, hash_id_number


def valid_id_number(seed):
    """An 18-character ID number with a correct GB 11643 check digit."""
    body = f"110101199003{seed % 10**5:05d}"[:17]
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS))
    return body + ID_CHECK_CHARS[total % 11]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-1234-word")
    is_staff = True


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Project
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"测试花园{n}期")
    city = "杭州"
    hotline = "400-800-1234"


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Building

    project = factory.SubFactory(ProjectFactory)
    code = factory.Sequence(lambda n: str(n + 1))
    name = factory.LazyAttribute(lambda b: f"{b.code}号楼")
    floors = 18


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Unit

    building = factory.SubFactory(BuildingFactory)
    project = factory.LazyAttribute(lambda u: u.building.project)
    entrance = "1"
    floor = 15
    number = factory.Sequence(lambda n: f"{1500 + n}")
    area = "89.50"
    layout = "三室两厅"
    delivery_batch = "第一批"


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Owner

    name = factory.Sequence(lambda n: f"业主{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    id_last4 = factory.LazyAttribute(lambda o: "")


class OwnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Ownership

    owner = factory.SubFactory(OwnerFactory)
    unit = factory.SubFactory(UnitFactory)
    is_primary = True


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:02d}")
    name = factory.Sequence(lambda n: f"部门{n}")


class ContractorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Contractor
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试建设工程有限公司{n}")
    contact_name = "王师傅"
    contact_mobile = factory.Sequence(lambda n: f"137{n:08d}")
    warranty_deposit = "50000.00"

    @factory.post_generation
    def projects(self, create, extracted, **kwargs):
        if create and extracted:
            self.projects.set(extracted)


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    all_projects = False

    @factory.post_generation
    def projects(self, create, extracted, **kwargs):
        if create and extracted:
            self.projects.set(extracted)


def owner_with_id(seed, **kwargs):
    id_number = valid_id_number(seed)
    return OwnerFactory(id_hash=hash_id_number(id_number), id_last4=id_number[-4:], **kwargs)
