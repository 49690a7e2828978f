"""Data for the matching fair's tests (双向选择会): a term, bureau staff of 课后服务, an
admitted provider with its organisation account, a fair, needs and offers."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from afterschool.models import Provider
from portal.models import SchoolPeriod
from supply.fair_models import Fair, FairChoice, FairNeed, FairOffer
from tests.factories import OrganisationFactory, OrganisationMemberFactory, UserFactory


def term_of(district, *, before=-10, after=120, name="2027年春季学期") -> SchoolPeriod:
    """A term of ``district``; by default it starts in ten days (the fair comes before)."""
    today = timezone.localdate()
    return SchoolPeriod.objects.create(
        district=district, kind=SchoolPeriod.Kind.TERM, name=name,
        start=today - dt.timedelta(days=before), end=today + dt.timedelta(days=after),
    )  # fmt: skip


def bureau_as(username="bureau_as"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def provider_member(username="org_a", *, status=Provider.Status.ADMITTED, name=None):
    """A member (管理员) of an organisation whose provider has ``status``."""
    org = OrganisationFactory(**({"name": name} if name else {}))
    provider = Provider.objects.create(
        name=org.name, credit_code=org.credit_code, status=status, licence_checked=True,
        staff_vetted=True, vetting_note="已审查",
    )  # fmt: skip
    org.provider = provider
    org.save(update_fields=["provider"])
    return OrganisationMemberFactory(organisation=org, user__username=username).user


def fair_of(district, **kw) -> Fair:
    return Fair.objects.create(term=term_of(district), name=kw.pop("name", "春季双向选择会"), **kw)


def need(fair, school, *, kind="sports", grades=(3, 4), weekdays=(1, 3), places=30,
         budget="60") -> FairNeed:  # fmt: skip
    return FairNeed.objects.create(
        fair=fair, school=school, kind=kind, grades=list(grades), weekdays=list(weekdays),
        places=places, budget_per_lesson=Decimal(budget),
    )  # fmt: skip


def offer(fair, user, *, title="篮球", kind="sports", grades=(3, 4, 5), weekdays=(1, 2, 3),
          places=30, capacity=1, price="50", outside="120") -> FairOffer:  # fmt: skip
    org = user.organisation_member.organisation
    return FairOffer.objects.create(
        fair=fair, organisation=org, provider=org.provider, title=title, kind=kind,
        grades=list(grades), weekdays=list(weekdays), places=places, capacity=capacity,
        price_per_lesson=Decimal(price), outside_price=Decimal(outside),
    )  # fmt: skip


def choose(side, fixed, others):
    """Rows of one side's ranking (the data a service would write), first choice first."""
    key = "offer" if side == FairChoice.Side.SCHOOL else "need"
    fixed_key = "need" if side == FairChoice.Side.SCHOOL else "offer"
    for rank, other in enumerate(others, 1):
        FairChoice.objects.create(side=side, rank=rank, **{fixed_key: fixed, key: other})
