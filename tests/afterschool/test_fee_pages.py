import pytest
from django.urls import reverse

from afterschool import enrolment, payments
from afterschool.models import Bill, Lesson, Payment, Rating, TermSurvey
from tests.afterschool.fees_helpers import balanced_ledger, during, early, paid_course, today  # noqa: F401
from tests.afterschool.helpers import family
from tests.factories import ParentFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("balanced_ledger")]


@pytest.fixture
def course(world):
    c = paid_course(world.school_a)
    enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=c.pk, now=early(c))
    return c


def test_a_parent_pays_through_the_sandbox_pages_and_reads_the_receipt(world, course, client_for):
    c = client_for(world.parent_a)
    bill = Bill.objects.get(child=world.child_a)
    r = c.post(reverse("afterschool:bill_pay", args=[bill.pk]), {"provider": "sandbox"})
    payment = Payment.objects.get(bill=bill)
    assert r.url == reverse("afterschool:sandbox_pay", args=[payment.reference])
    assert "60.00 元" in c.get(r.url).content.decode()
    r = c.post(r.url, {"action": "pay"}, follow=True)
    html = r.content.decode()
    assert "缴费成功" in html and payment.reference in html
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID


def test_the_waiver_reason_never_reaches_the_parents_pages(world, course, client_for):
    from afterschool import fees

    fees.waiver_set(
        actor=world.principal_a,
        child_id=world.child_a.pk,
        term_id=course.plan.term_id,
        percent=50,
        reason="低保家庭",
    )
    html = client_for(world.parent_a).get(reverse("afterschool:bills")).content.decode()
    assert "减免 30.00 元" in html and "低保" not in html
    assert (
        "低保家庭"
        in client_for(world.principal_a).get(reverse("afterschool:fees")).content.decode()
    )


def test_fee_pages_refuse_those_who_must_not_see_them(world, course, client_for):
    bill = Bill.objects.get(child=world.child_a)
    payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
    stranger = ParentFactory(user__username="stranger").user
    parent_only = ["afterschool:bills", "afterschool:attendance", "afterschool:survey"]
    school_only = ["afterschool:fees", "afterschool:settlement", "afterschool:lessons"]
    for name in parent_only:
        assert client_for(world.principal_a).get(reverse(name)).status_code == 403
        assert client_for(None).get(reverse(name)).status_code == 302
    for name in school_only:
        assert client_for(world.parent_a).get(reverse(name)).status_code == 403
        assert client_for(None).get(reverse(name)).status_code == 302
    # fees are the principal's and 教导处's, not every teacher's
    assert client_for(world.teacher_a).get(reverse("afterschool:fees")).status_code == 403
    assert client_for(world.teacher_a).get(reverse("afterschool:settlement")).status_code == 403
    # another family's payment pages are a 404, never a 403
    for name in ("afterschool:sandbox_pay", "afterschool:receipt"):
        assert client_for(stranger).get(reverse(name, args=[payment.reference])).status_code == 404
    r = client_for(stranger).post(reverse("afterschool:bill_pay", args=[bill.pk]))
    assert r.status_code == 404
    # the other school's principal sees none of school A's bills
    html = client_for(world.principal_b).get(reverse("afterschool:fees")).content.decode()
    assert world.child_a.name not in html
    lesson = Lesson.objects.filter(offering=course).first()
    assert (
        client_for(world.principal_b)
        .get(reverse("afterschool:roll_call", args=[lesson.pk]))
        .status_code
        == 404
    )
    from django.contrib.auth.models import Group

    bureau = UserFactory(username="as_staff", is_staff=True)
    bureau.groups.add(Group.objects.get(name="课后服务"))  # bureau staff of 课后服务
    assert client_for(bureau).get(reverse("afterschool:rates")).status_code == 200
    assert client_for(world.principal_a).get(reverse("afterschool:rates")).status_code == 403


def test_a_rejected_waiver_form_keeps_what_was_typed(world, course, client_for):
    c = client_for(world.principal_a)
    r = c.post(
        reverse("afterschool:fees"),
        {
            "action": "waiver",
            "child": world.child_a.pk,
            "term": course.plan.term_id,
            "percent": "100",
            "reason": "",
        },
    )
    html = r.content.decode()
    assert "请填写减免原因" in html and 'value="100"' in html


@pytest.mark.parametrize("n", [2, 6])
def test_bill_and_fee_lists_cost_the_same_queries_however_many_rows(
    world, client_for, django_assert_num_queries, n
):
    course = paid_course(world.school_a, capacity=10)
    parents = family(world.class_a, n, prefix=f"q{n}_")
    for user, child in parents:
        enrolment.enrol(user=user, child_id=child.pk, offering_id=course.pk, now=early(course))
        child.parents.add(world.parent_a.parent)  # one parent sees every child's bills
    c = client_for(world.parent_a)
    with django_assert_num_queries(6):
        c.get(reverse("afterschool:bills"))
    c = client_for(world.principal_a)
    with django_assert_num_queries(9):
        c.get(reverse("afterschool:fees"))


def test_the_bureau_reads_participation_and_satisfaction_per_school(world, course, client_for):
    TermSurvey.objects.create(
        school=world.school_a, term=course.plan.term, parent=world.parent_a.parent, answer="very"
    )
    Rating.objects.create(
        offering=course, parent=world.parent_a.parent, child=world.child_a, stars=4
    )
    from afterschool.selectors import school_rates

    rows = {r["school"]: r for r in school_rates(course.plan.term.start, course.plan.term.end)}
    a = rows[world.school_a]
    assert (a["pupils"], a["taking"], a["participation"]) == (1, 1, 1.0)
    assert (a["answers"], a["satisfaction"], a["rating"]) == (1, 1.0, 4)
    assert rows[world.school_b]["participation"] == 0


def test_a_parent_answers_the_term_survey_once(world, course, client_for):
    c = client_for(world.parent_a)
    key = f"{world.school_a.pk}:{course.plan.term_id}"
    r = c.post(reverse("afterschool:survey"), {"pair": key, "answer": ""})
    assert "请选择总体满意度" in r.content.decode()
    c.post(reverse("afterschool:survey"), {"pair": key, "answer": "satisfied"})
    c.post(reverse("afterschool:survey"), {"pair": key, "answer": "dissatisfied"})
    assert list(TermSurvey.objects.values_list("answer", flat=True)) == ["satisfied"]


@pytest.mark.parametrize("n", [2, 6])
def test_the_settlement_page_costs_the_same_queries_however_many_bills(
    world, client_for, django_assert_num_queries, n
):
    import datetime as dt
    from decimal import Decimal

    from afterschool import payments
    from afterschool.models import Provider, ProviderContract

    provider = Provider.objects.create(
        name="星火科创", credit_code="91110000MA0000009X", status=Provider.Status.ADMITTED
    )
    contract = ProviderContract.objects.create(
        provider=provider,
        items="编程",
        price_per_lesson=Decimal("20"),
        outside_price=Decimal("60"),
        start=today() - dt.timedelta(days=60),
        end=today() + dt.timedelta(days=60),
    )
    course = paid_course(world.school_a, capacity=10, contract=contract)
    for user, child in family(world.class_a, n, prefix=f"s{n}_"):
        enrolment.enrol(user=user, child_id=child.pk, offering_id=course.pk, now=early(course))
        bill = Bill.objects.get(child=child)
        p = payments.payment_start(user=user, bill_id=bill.pk, provider="sandbox")
        payments.notify("sandbox", *payments.PROVIDERS["sandbox"].notification(p))
    c = client_for(world.principal_a)
    url = reverse("afterschool:settlement") + f"?term={course.plan.term_id}"
    with django_assert_num_queries(14):
        page = c.get(url)
    assert f"{n * 3} 人·课时" in page.content.decode()  # every child-lesson still to deliver
