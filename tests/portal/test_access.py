"""The one place that decides what a user sees: every scoped view, every refused user."""

import pytest
from django.urls import reverse

from portal.compliance import run_checks
from portal.models import Finding

pytestmark = pytest.mark.django_db


def _finding_for(school):
    run_checks(
        for_date=__import__("datetime").date(2026, 3, 2), rules=["portal.school.no_principal"]
    )
    return Finding.objects.get(school=school, resolved_at=None)


def test_a_principal_sees_their_own_school(world, client_for):
    page = client_for(world.principal_a).get(reverse("portal:school_home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "甲小学" in html
    assert "乙小学" not in html


def test_a_principal_gets_404_for_another_schools_class(world, client_for):
    c = client_for(world.principal_a)
    assert c.get(reverse("portal:school_class", args=[world.class_a.pk])).status_code == 200
    assert c.get(reverse("portal:school_class", args=[world.class_b.pk])).status_code == 404


def test_a_principal_gets_404_for_another_schools_finding(world, client_for):
    world.principal_b.school_staff.delete()  # school B now has no principal: a finding
    finding = _finding_for(world.school_b)
    assert (
        client_for(world.principal_a)
        .get(reverse("portal:finding_detail", args=[finding.pk]))
        .status_code
        == 404
    )
    # and it is not listed either
    listing = client_for(world.principal_a).get(reverse("portal:school_findings"))
    assert finding.message not in listing.content.decode()


def test_a_teacher_sees_their_schools_findings(world, client_for):
    world.principal_a.school_staff.delete()
    finding = _finding_for(world.school_a)
    c = client_for(world.teacher_a)
    assert c.get(reverse("portal:finding_detail", args=[finding.pk])).status_code == 200
    assert finding.message in c.get(reverse("portal:school_findings")).content.decode()


def test_a_parent_sees_only_their_own_children(world, client_for):
    c = client_for(world.parent_a)
    home = c.get(reverse("portal:parent_home")).content.decode()
    assert "甲同学" in home and "乙同学" not in home
    assert c.get(reverse("portal:child_detail", args=[world.child_a.pk])).status_code == 200
    assert c.get(reverse("portal:child_detail", args=[world.child_b.pk])).status_code == 404


def test_a_parents_phone_is_masked_on_their_page(world, client_for):
    html = client_for(world.parent_a).get(reverse("portal:parent_home")).content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html


SCHOOL_VIEWS = ["portal:school_home", "portal:school_findings"]
PARENT_VIEWS = ["portal:parent_home"]


@pytest.mark.parametrize("name", SCHOOL_VIEWS)
def test_school_views_refuse_parents_and_bureau_and_anonymous(world, client_for, name):
    url = reverse(name)
    assert client_for(world.parent_a).get(url).status_code == 403
    assert client_for(world.bureau).get(url).status_code == 403
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]


@pytest.mark.parametrize("name", PARENT_VIEWS)
def test_parent_views_refuse_school_staff_and_anonymous(world, client_for, name):
    url = reverse(name)
    assert client_for(world.principal_a).get(url).status_code == 403
    assert client_for(world.bureau).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_object_views_refuse_the_other_kind(world, client_for):
    class_url = reverse("portal:school_class", args=[world.class_a.pk])
    child_url = reverse("portal:child_detail", args=[world.child_a.pk])
    assert client_for(world.parent_a).get(class_url).status_code == 403
    assert client_for(world.principal_a).get(child_url).status_code == 403
    assert client_for(None).get(child_url).status_code == 302


def test_me_sends_each_kind_to_its_own_place(world, client_for, superuser):
    me = reverse("portal:me")
    assert client_for(world.principal_a).get(me)["Location"] == reverse("portal:school_home")
    assert client_for(world.parent_a).get(me)["Location"] == reverse("portal:parent_home")
    assert client_for(world.bureau).get(me)["Location"] == reverse("dashboard:index")


def test_me_sends_the_bound_kinds_to_their_homes_and_an_inactive_one_nowhere(world, client_for):
    from tests.factories import ExpertFactory, OrganisationMemberFactory, SiteOperatorFactory

    me = reverse("portal:me")
    operator = SiteOperatorFactory().user
    member = OrganisationMemberFactory().user
    expert = ExpertFactory()
    assert client_for(operator).get(me)["Location"] == reverse("sites:mine")
    assert client_for(member).get(me)["Location"] == reverse("calls:org_home")
    assert client_for(expert.user).get(me)["Location"] == reverse("calls:expert_home")
    expert.active = False
    expert.save()
    assert client_for(expert.user).get(me).status_code == 403


def test_bound_kinds_see_only_their_own_object(world):
    """A site's operator sees their site, not another; an organisation's member theirs."""
    from afterschool.models import CareSite
    from portal.access import scope
    from supply.models import Organisation
    from tests.factories import OrganisationMemberFactory, SiteOperatorFactory

    op, other_op = SiteOperatorFactory(), SiteOperatorFactory()
    assert list(scope(CareSite.objects.all(), op.user)) == [op.site]
    assert list(scope(CareSite.objects.all(), other_op.user)) == [other_op.site]
    member, other = OrganisationMemberFactory(), OrganisationMemberFactory()
    assert list(scope(Organisation.objects.all(), member.user)) == [member.organisation]
    assert member.organisation not in scope(Organisation.objects.all(), other.user)
    # a parent sees no site, a site operator no organisation
    assert not scope(CareSite.objects.all(), world.parent_a).exists()
    assert not scope(Organisation.objects.all(), op.user).exists()


def test_an_inactive_principal_is_nobody(world, client_for):
    from portal.access import NOBODY, kind_of

    world.principal_a.is_active = False
    assert kind_of(world.principal_a) == NOBODY


def test_the_school_page_runs_a_fixed_number_of_queries(
    world, client_for, django_assert_num_queries
):
    from tests.factories import ChildFactory, SchoolClassFactory, SchoolStaffFactory

    for number in range(2, 12):
        school_class = SchoolClassFactory(school=world.school_a, grade=4, number=number)
        ChildFactory.create_batch(3, school_class=school_class)
        SchoolStaffFactory(school=world.school_a)
    c = client_for(world.principal_a)
    c.get(reverse("portal:school_home"))  # warm the session
    # session, user, school_staff, school, classes, staff, finding counts, and whether the
    # user may open the care ledger (a head teacher, the principal or care staff)
    with django_assert_num_queries(8):
        assert c.get(reverse("portal:school_home")).status_code == 200
