import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from afterschool import plans, providers
from afterschool.models import Offering, Provider, SchoolPlan
from portal.compliance import run_checks
from portal.models import AuditLog, Finding, SchoolPeriod
from tests.factories import UserFactory
from tests.institutions.helpers import credit_code, make_institution, training_staff

TODAY = dt.date(2026, 11, 23)
T = dt.time.fromisoformat


@pytest.fixture
def staff_as(db):
    """A bureau user of the 课后服务 group (like training_staff for 校外培训)."""
    user = UserFactory(username="kehou", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def apply(staff, name="星火体育俱乐部", **kw):
    return providers.provider_apply(actor=staff, name=name, credit_code=credit_code(), **kw)


def contract(staff, provider, price="40", outside="80", start=TODAY, end=dt.date(2027, 7, 15)):
    return providers.contract_add(
        actor=staff,
        provider_id=provider.pk,
        items="篮球、足球",
        price_per_lesson=Decimal(price),
        outside_price=Decimal(outside),
        start=start,
        end=end,
    )


def qualify(staff, provider):
    return providers.provider_review_qualification(
        actor=staff,
        provider_id=provider.pk,
        licence_checked=True,
        staff_vetted=True,
        vetting_note="12名教练无犯罪记录查询均无记录（2026-11-20）",
        today=TODAY,
    )


def admitted(staff, name="星火体育俱乐部", **kw):
    provider = apply(staff, name, **kw)
    qualify(staff, provider)
    contract(staff, provider)
    return providers.provider_admit(actor=staff, provider_id=provider.pk, today=TODAY)


def provider_actions(provider):
    return list(
        AuditLog.objects.filter(
            object_id=str(provider.pk), action__startswith="afterschool.provider"
        )
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- whitelist ----------------------------------------------------------------------------


def test_a_provider_is_admitted_after_qualification_and_a_contract(world, staff_as):
    provider = admitted(staff_as)
    assert provider.status == "admitted" and provider.admitted_on == TODAY
    assert provider_actions(provider) == [
        "afterschool.provider.applied",
        "afterschool.provider.qualification_reviewed",
        "afterschool.provider.admitted",
    ]
    assert AuditLog.objects.filter(action="afterschool.contract.added").count() == 1


def test_admission_names_what_is_missing(world, staff_as):
    provider = apply(staff_as)
    with pytest.raises(ValidationError) as exc:
        providers.provider_admit(actor=staff_as, provider_id=provider.pk, today=TODAY)
    assert set(exc.value.message_dict) == {"licence_checked", "staff_vetted", "contracts"}
    qualify(staff_as, provider)
    contract(staff_as, provider, start=dt.date(2025, 9, 1), end=dt.date(2026, 7, 15))
    with pytest.raises(ValidationError, match="未到期的服务合同"):
        providers.provider_admit(actor=staff_as, provider_id=provider.pk, today=TODAY)
    assert Provider.objects.get(pk=provider.pk).status == "applied"


def test_staff_vetting_needs_a_note(world, staff_as):
    provider = apply(staff_as)
    with pytest.raises(ValidationError) as exc:
        providers.provider_review_qualification(
            actor=staff_as,
            provider_id=provider.pk,
            licence_checked=True,
            staff_vetted=True,
            vetting_note=" ",
        )
    assert "vetting_note" in exc.value.message_dict


def test_a_training_institution_must_be_white_now(world, staff_as):
    xw = training_staff()
    grey = make_institution(xw, world.school_a.district, name="灰色培训学校", white=False)
    provider = apply(staff_as, "灰色培训学校", institution=grey)
    with pytest.raises(ValidationError) as exc:
        qualify(staff_as, provider)
    message = exc.value.message_dict["institution"][0]
    assert "灰名单" in message and "预收费未纳入监管" in message
    white = make_institution(xw, world.school_a.district, name="白名单培训学校")
    provider = admitted(staff_as, "白名单培训学校", institution=white)
    assert provider.status == "admitted"


@pytest.mark.parametrize("price, ok", [("80", False), ("79.99", True)])
def test_the_price_must_be_below_the_outside_price(world, staff_as, price, ok):
    provider = apply(staff_as)
    if ok:
        assert contract(staff_as, provider, price=price).price_per_lesson == Decimal("79.99")
    else:
        with pytest.raises(ValidationError) as exc:
            contract(staff_as, provider, price=price)
        assert exc.value.message_dict == {
            "price_per_lesson": ["课时单价80元须低于该机构校外同类课时价80元。"]
        }


def test_a_contract_ends_after_it_starts(world, staff_as):
    provider = apply(staff_as)
    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        contract(staff_as, provider, start=TODAY, end=TODAY - dt.timedelta(days=1))
    assert contract(staff_as, provider, start=TODAY, end=TODAY).end == TODAY


def test_only_after_school_staff_manage_the_whitelist(world, staff_as):
    for user in (world.bureau, world.principal_a, world.parent_a):
        with pytest.raises(PermissionDenied):
            apply(user)
    provider = apply(staff_as)
    with pytest.raises(PermissionDenied):
        providers.provider_admit(actor=world.bureau, provider_id=provider.pk)


def test_illegal_moves_are_refused(world, staff_as):
    provider = apply(staff_as)
    with pytest.raises(ValidationError, match="“已申请”，不能变为“已退出”"):
        providers.provider_exit(actor=staff_as, provider_id=provider.pk, reason="违规")
    providers.provider_reject(actor=staff_as, provider_id=provider.pk, reason="资质不全")
    with pytest.raises(ValidationError, match="“未通过”，不能变为“已准入”"):
        providers.provider_admit(actor=staff_as, provider_id=provider.pk, today=TODAY)
    with pytest.raises(ValidationError, match="不能签订服务合同"):
        contract(staff_as, provider)


def test_the_annual_review_is_one_per_year_and_audited(world, staff_as):
    provider = admitted(staff_as)
    providers.provider_review(
        actor=staff_as, provider_id=provider.pk, year=2026, passed=False, date=TODAY
    )
    review = providers.provider_review(
        actor=staff_as, provider_id=provider.pk, year=2026, passed=True, date=TODAY, note="复查"
    )
    assert provider.reviews.get().passed and review.note == "复查"
    assert provider_actions(provider).count("afterschool.provider.reviewed") == 2


# --- exit, the menu and the nightly checks ---------------------------------------------


@pytest.fixture
def plan(world, staff_as):
    term = SchoolPeriod.objects.create(
        district=world.school_a.district,
        kind="term",
        name="2026秋季学期",
        start=dt.date(2026, 9, 1),
        end=dt.date(2027, 1, 22),
    )
    plan = plans.plan_save(
        actor=world.principal_a,
        term=term,
        weekdays=[0, 1, 2, 3, 4],
        start_time=T("15:30"),
        end_time=T("17:30"),
        items="托管、社团",
    )
    return SchoolPlan.objects.get(pk=plan.pk)


def offering(plan, contract_, status="published", name="篮球"):
    return Offering.objects.create(
        school=plan.school,
        plan=plan,
        name=name,
        kind="enrichment",
        contract=contract_,
        grades=[3, 4],
        capacity=30,
        weekday=1,
        start=T("15:30"),
        end=T("17:00"),
        status=status,
        fee_per_lesson=Decimal("40"),
    )


def test_admitted_contracts_are_of_admitted_providers_and_current(world, staff_as):
    provider = admitted(staff_as)
    current = provider.contracts.get()
    applied = apply(staff_as, "未准入机构")
    contract(staff_as, applied)
    later = contract(staff_as, provider, start=dt.date(2027, 2, 1), end=dt.date(2027, 7, 1))
    assert list(providers.admitted_contracts(TODAY)) == [current]
    assert set(providers.admitted_contracts(dt.date(2027, 3, 1))) == {current, later}
    providers.provider_exit(actor=staff_as, provider_id=provider.pk, reason="年审不合格")
    assert not providers.admitted_contracts(TODAY).exists()


def test_an_exit_needs_a_reason_and_closes_the_providers_offerings(world, staff_as, plan):
    provider = admitted(staff_as)
    other = admitted(staff_as, "另一家机构")
    mine = [
        offering(plan, provider.contracts.get()),
        offering(plan, provider.contracts.get(), status="draft", name="足球"),
    ]
    theirs = offering(plan, other.contracts.get(), name="书法")
    with pytest.raises(ValidationError, match="必须说明原因"):
        providers.provider_exit(actor=staff_as, provider_id=provider.pk, reason="")
    providers.provider_exit(
        actor=staff_as, provider_id=provider.pk, reason="聘用人员未经审查", date=TODAY
    )
    provider.refresh_from_db()
    assert provider.status == "exited" and provider.exit_reason == "聘用人员未经审查"
    assert {o.status for o in Offering.objects.filter(pk__in=[o.pk for o in mine])} == {"closed"}
    assert Offering.objects.get(pk=theirs.pk).status == "published"
    row = AuditLog.objects.get(action="afterschool.provider.exited")
    assert sorted(row.new["offerings_closed"]) == sorted(o.pk for o in mine)


def test_an_exited_provider_still_on_a_menu_is_found_and_resolved(world, staff_as, plan):
    rule = "afterschool.provider.exited_on_menu"
    provider = admitted(staff_as)
    course = offering(plan, provider.contracts.get())
    providers.provider_exit(actor=staff_as, provider_id=provider.pk, reason="停业")
    # a course published again behind the service's back (import, admin, a race)
    Offering.objects.filter(pk=course.pk).update(status="published")
    run_checks(for_date=TODAY, rules=[rule])
    finding = Finding.objects.get(rule=rule, resolved_at=None)
    assert finding.school == world.school_a and "篮球" in finding.message
    Offering.objects.filter(pk=course.pk).update(status="closed")
    run_checks(for_date=TODAY, rules=[rule])
    assert not Finding.objects.filter(rule=rule, resolved_at=None).exists()


def test_an_overdue_annual_review_is_found_and_resolved(world, staff_as):
    rule = "afterschool.provider.review_overdue"
    provider = admitted(staff_as)
    run_checks(for_date=TODAY, rules=[rule])  # admitted today: not yet due
    assert not Finding.objects.filter(rule=rule).exists()
    later = dt.date(2028, 3, 1)  # more than 15 months after admission, no review
    run_checks(for_date=later, rules=[rule])
    assert Finding.objects.filter(rule=rule, resolved_at=None).count() == 1
    providers.provider_review(
        actor=staff_as, provider_id=provider.pk, year=2027, passed=True, date=dt.date(2027, 6, 1)
    )
    run_checks(for_date=later, rules=[rule])
    assert not Finding.objects.filter(rule=rule, resolved_at=None).exists()


def test_the_admin_lists_open_for_after_school_staff(world, staff_as, client_for):
    from django.urls import reverse

    provider = admitted(staff_as)
    client = client_for(staff_as)
    for name in ("provider", "schoolplan", "offering", "enrolment", "afterschoolpolicy"):
        url = reverse(f"admin:afterschool_{name}_changelist")
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("admin:afterschool_provider_change", args=[provider.pk]))
    assert page.status_code == 200 and "篮球、足球" in page.content.decode()
    assert (
        client_for(world.bureau).get(reverse("admin:afterschool_provider_changelist")).status_code
        == 403
    )
