"""The pages of 消课: the parent's 我的校外培训 and purchase page, the institution's claims
list and claim form; who is refused (403/404) and what each page shows."""

import datetime as dt

import pytest
from django.urls import reverse

from institutions import claims
from institutions.claim_models import LessonClaim
from tests.factories import InstitutionStaffFactory
from tests.institutions.claim_helpers import (
    DAY,
    institution_with_staff,
    paid_purchase,
    stranger_parent,
)

T = dt.time
S = LessonClaim.Status


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def setup(world):
    inst, staff = institution_with_staff()
    parent = world.parent_a.parent
    p = paid_purchase(inst, parent, amount="1000.00", lessons=10)
    [c] = claims.claim_record(actor=staff, course_id=p.course_id, purchase_ids=[p.pk], date=DAY,
                              start=T(18, 0), end=T(18, 45))  # fmt: skip
    return inst, staff, parent, p, c


def test_my_page_lists_the_purchase_with_its_figures_and_what_to_answer(setup, client_for):
    inst, _staff, parent, p, c = setup
    page = client_for(parent.user).get(reverse("training:my")).content.decode()
    assert inst.name in page and "1000.00" in page
    assert "有 1 节课待您确认" in page
    assert "机构登记 1 课时，已确认 0，有异议 0" in page
    assert "900.00 元" in page  # refundable now: 9 unconsumed lessons
    assert "badge-" in page  # the institution's colour


def test_the_purchase_page_confirms_a_claim(setup, client_for):
    _inst, _staff, parent, p, c = setup
    client = client_for(parent.user)
    page = client.get(reverse("training:purchase", args=[p.pk])).content.decode()
    assert f'data-testid="claim-{c.pk}"' in page and "申请退费" not in page
    assert 'data-testid="refund-slot"' in page
    response = client.post(reverse("training:claim_confirm", args=[c.pk]), follow=True)
    page = response.content.decode()
    assert "已确认" in page and "100.00 元" in page  # released one lesson's value
    c.refresh_from_db()
    assert c.status == S.CONFIRMED


def test_a_dispute_without_reason_keeps_the_form_and_names_the_field(setup, client_for):
    _inst, _staff, parent, p, c = setup
    client = client_for(parent.user)
    response = client.post(reverse("training:claim_dispute", args=[c.pk]),
                           {"reason": "", "complain": "on"})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "请填写异议事由" in page
    assert 'name="complain" value="on" checked' in page
    response = client.post(reverse("training:claim_dispute", args=[c.pk]),
                           {"reason": "没上课"}, follow=True)  # fmt: skip
    assert "已提出异议" in response.content.decode()
    p.refresh_from_db()
    assert p.dispute_open


def test_another_parent_gets_404_and_an_institution_403(setup, client_for, world):
    _inst, staff, _parent, p, c = setup
    other = stranger_parent()
    client = client_for(other.user)
    assert client.get(reverse("training:purchase", args=[p.pk])).status_code == 404
    assert client.post(reverse("training:claim_confirm", args=[c.pk])).status_code == 404
    assert client.post(reverse("training:claim_dispute", args=[c.pk]),
                       {"reason": "x"}).status_code == 404  # fmt: skip
    assert client.get(reverse("training:my")).status_code == 200  # their own, empty
    for user in (staff, world.principal_a):
        assert client_for(user).get(reverse("training:my")).status_code == 403
    assert client_for(None).get(reverse("training:my")).status_code == 302
    c.refresh_from_db()
    assert c.status == S.PENDING


def test_the_institution_claims_a_lesson_for_ticked_buyers(setup, client_for, world):
    inst, staff, parent, p, c = setup
    q = paid_purchase(inst)
    client = client_for(staff)
    page = client.get(reverse("training:claims")).content.decode()
    assert "待确认" in page and "少儿美术" in page
    url = reverse("training:course_claim", args=[p.course_id])
    page = client.get(url).content.decode()
    assert f'data-testid="buyer-{q.pk}"' in page and "张*" in page and "138****5678" in page
    data = {"date": "2026-03-05", "start": "18:00", "end": "18:45", "lessons": "1",
            "purchases": [p.pk, q.pk]}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    assert LessonClaim.objects.filter(date=dt.date(2026, 3, 5)).count() == 2


def test_a_refused_claim_keeps_what_was_typed(setup, client_for):
    _inst, staff, _parent, p, c = setup
    url = reverse("training:course_claim", args=[p.course_id])
    data = {"date": DAY.isoformat(), "start": "18:00", "end": "18:45", "lessons": "1",
            "purchases": [p.pk]}  # fmt: skip
    response = client_for(staff).post(url, data)
    page = response.content.decode()
    assert response.status_code == 200 and "不能重复消课" in page
    assert f'value="{DAY.isoformat()}"' in page and "checked" in page
    assert LessonClaim.objects.count() == 1


def test_another_institutions_course_or_purchase_is_404(setup, client_for):
    inst, staff, _parent, p, _c = setup
    other, other_staff = institution_with_staff(name="别家培训学校")
    theirs = paid_purchase(other)
    client = client_for(staff)
    assert client.get(reverse("training:course_claim", args=[theirs.course_id])).status_code == 404
    data = {"date": "2026-03-05", "start": "18:00", "end": "18:45", "lessons": "1",
            "purchases": [p.pk, theirs.pk]}  # fmt: skip
    url = reverse("training:course_claim", args=[p.course_id])
    assert client.post(url, data).status_code == 404
    assert LessonClaim.objects.count() == 1


def test_finance_staff_and_parents_may_not_open_the_claims(setup, client_for, world):
    inst, _staff, parent, p, _c = setup
    finance = InstitutionStaffFactory(institution=inst, role="finance").user
    for user in (finance, parent.user, world.principal_a):
        assert client_for(user).get(reverse("training:claims")).status_code == 403
    assert client_for(None).get(reverse("training:claims")).status_code == 302


def test_the_pages_cost_a_fixed_number_of_queries(setup, client_for, django_assert_max_num_queries):
    inst, staff, parent, p, _c = setup
    for _ in range(5):
        q = paid_purchase(inst, parent)
        claims.claim_record(actor=staff, course_id=q.course_id, purchase_ids=[q.pk], date=DAY,
                            start=T(18, 0), end=T(18, 45))  # fmt: skip
    client = client_for(parent.user)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("training:my")).status_code == 200
    client = client_for(staff)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("training:claims")).status_code == 200


def test_org_summary_counts_the_claims(setup):
    from institutions.claim_selectors import org_summary

    inst, *_rest = setup
    rows = org_summary(inst)
    assert ("待家长确认的消课", "1", "/training/claims/?status=pending") in rows
    assert rows[0][:2] == ("在读学员（有效预收费）", "1")


def test_a_hostile_status_filter_is_a_chinese_400(setup, client_for):
    _inst, staff, *_rest = setup
    client = client_for(staff)
    assert client.get(reverse("training:claims"), {"status": "pending"}).status_code == 200
    response = client.get(reverse("training:claims"), {"status": "x' OR 1=1"})
    assert response.status_code == 400 and "status" in response.content.decode()
