import factory
from django.contrib.auth import get_user_model

from portal.models import Child, District, Parent, School, SchoolClass, SchoolStaff

PASSWORD = "Ceshi-mima-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    code = factory.Sequence(lambda n: f"4401{n:02d}")
    name = factory.Sequence(lambda n: f"测试{n}区")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"S{n:06d}")
    name = factory.Sequence(lambda n: f"第{n}小学")
    stage = School.Stage.PRIMARY
    district = factory.SubFactory(DistrictFactory)


class SchoolStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolStaff

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)
    role = SchoolStaff.Role.TEACHER
    name = factory.Sequence(lambda n: f"教师{n}")


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass

    school = factory.SubFactory(SchoolFactory)
    grade = 3
    number = factory.Sequence(lambda n: n + 1)


class ParentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Parent

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"家长{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    name = factory.Sequence(lambda n: f"学生{n}")
    school_class = factory.SubFactory(SchoolClassFactory)
    school = factory.SelfAttribute("school_class.school")


def _credit_code(n: int) -> str:
    from institutions.uscc import check_character

    body = f"524401{n:06d}MA00X"[:17]
    return body + check_character(body)


def _org_code(n: int) -> str:
    from institutions.uscc import check_character

    body = f"914403{n:06d}MA00Y"[:17]
    return body + check_character(body)


class InstitutionFactory(factory.django.DjangoModelFactory):
    """A licensed non-subject institution (no supervised account, no review: grey until the
    test gives it those; tests/institutions/helpers.make_institution makes a white one
    through the services)."""

    class Meta:
        model = "institutions.Institution"

    name = factory.Sequence(lambda n: f"测试培训机构{n}")
    credit_code = factory.Sequence(_credit_code)
    category = "non_subject"
    subjects = factory.LazyFunction(lambda: ["美术"])
    mode = "offline"
    nature = "non_profit"
    district = factory.SubFactory(DistrictFactory)
    licence_number = factory.Sequence(lambda n: f"教民{n:04d}号")
    licence_expires = factory.LazyFunction(lambda: __import__("datetime").date(2030, 12, 31))


class InstitutionStaffFactory(factory.django.DjangoModelFactory):
    """Staff of a training institution (机构端), its 管理员 unless told otherwise."""

    class Meta:
        model = "institutions.InstitutionStaff"

    user = factory.SubFactory(UserFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = "admin"
    name = factory.Sequence(lambda n: f"机构员工{n}")


class CommunitySiteFactory(factory.django.DjangoModelFactory):
    """A community care site (社区托管点) with its 承办学校."""

    class Meta:
        model = "afterschool.CareSite"

    kind = "community"
    name = factory.Sequence(lambda n: f"幸福社区小学堂{n}")
    partner_school = factory.SubFactory(SchoolFactory)
    district = factory.LazyAttribute(lambda o: o.partner_school.district)
    street = "城关街道"
    community = factory.Sequence(lambda n: f"幸福{n}社区")
    address = "幸福路1号"
    capacity = 40
    contact_name = "社区联系人"
    contact_phone = "13800001111"
    safety_checked_on = factory.LazyFunction(lambda: __import__("datetime").date.today())


class SiteOperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "afterschool.SiteOperator"

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(CommunitySiteFactory)
    name = factory.Sequence(lambda n: f"社区工作者{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    """An organisation of supply (a provider, a museum ...). Credit codes are valid USCCs
    (institutions.uscc) built from the sequence."""

    class Meta:
        model = "supply.Organisation"

    name = factory.Sequence(lambda n: f"阳光课后服务中心{n}")
    credit_code = factory.Sequence(_org_code)
    kind = "provider"
    contact_name = "联系人"
    contact_phone = "13900002222"


class OrganisationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "supply.OrganisationMember"

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "admin"
    name = factory.Sequence(lambda n: f"组织员工{n}")


class ExpertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "supply.Expert"

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"专家{n}")
    field = "课后服务"
