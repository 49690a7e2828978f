"""The sales pages: the institution's list, form and detail, the parent's offer and pay
pages; who is refused (403 / 404), what a rejected form keeps, the phone never whole."""

import pytest
from django.urls import reverse

from institutions.escrow_models import Purchase
from tests.factories import ParentFactory
from tests.institutions.sale_helpers import (
    END,
    START,
    accept,
    ensure_template,
    make_offer,
    make_paid_sale,
    new_parent,
    sale_institution,
    seller_of,
)


@pytest.fixture(autouse=True)
def _template(db):
    """The migration's 示范文本 (version 1, which these tests count on): a transaction=True
    test run earlier on the same xdist worker flushes it away (work stealing mixes the
    order pytest-django gives)."""
    ensure_template()


S = Purchase.Status


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def inst(db):
    return sale_institution()


def form(inst, **overrides):
    data = {
        "course": inst.courses.first().pk, "parent_name": "张三", "parent_phone": "13700005678",
        "lessons": "10", "amount": "1000.00", "starts_on": START.isoformat(),
        "ends_on": END.isoformat(),
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_list_shows_the_phone_masked_and_only_the_institutions_own_sales(
    inst, client, django_assert_max_num_queries
):
    for _ in range(5):
        make_offer(institution=inst, phone="13700005678")
    make_paid_sale(institution=inst)
    other = make_offer()  # another institution's
    client.force_login(seller_of(inst, role="finance"))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("sales:list")).content.decode()
    assert page.count("137****5678") == 5 and "13700005678" not in page
    assert "履行中" in page and "待家长确认" in page
    assert f"#{other.pk}<" not in page
    assert client.get(reverse("sales:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("sales:list") + "?status=bogus").status_code == 400


def test_the_detail_shows_the_contract_with_the_phone_masked(inst, client):
    p = make_offer(institution=inst, phone="13700005678")
    client.force_login(seller_of(inst))
    page = client.get(reverse("sales:detail", args=[p.pk])).content.decode()
    assert "137****5678" in page and "13700005678" not in page
    assert p.contract.template.title in page and p.idempotency_key in page


def test_a_new_sale_is_recorded_and_the_form_refuses_one_lesson_over_naming_the_rule(inst, client):
    client.force_login(seller_of(inst, role="desk"))
    r = client.post(reverse("sales:new"), form(inst, lessons="61"))
    page = r.content.decode()
    assert r.status_code == 400 and "不得超过60课时" in page
    assert 'value="张三"' in page and 'value="13700005678"' in page  # what was typed stays
    assert not Purchase.objects.exists()
    r = client.post(reverse("sales:new"), form(inst, lessons="60"))
    p = Purchase.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("sales:detail", args=[p.pk])
    assert p.status == S.OFFERED and p.lessons == 60


def test_a_malformed_phone_is_named_on_the_form(inst, client):
    client.force_login(seller_of(inst))
    r = client.post(reverse("sales:new"), form(inst, parent_phone="1380013"))
    assert r.status_code == 400 and "11 位手机号码" in r.content.decode()


def test_another_institutions_course_is_a_404(inst, client):
    other = sale_institution(name="别家")
    client.force_login(seller_of(inst))
    r = client.post(reverse("sales:new"), form(inst, course=other.courses.first().pk))
    assert r.status_code == 404 and not Purchase.objects.exists()


def test_who_may_not_reach_the_institution_pages(inst, client, world):
    p = make_offer(institution=inst)
    urls = [reverse("sales:list"), reverse("sales:new"), reverse("sales:detail", args=[p.pk])]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: the login page
    client.force_login(world.parent_a)
    assert all(client.get(u).status_code == 403 for u in urls)
    client.force_login(world.principal_a)
    assert all(client.get(u).status_code == 403 for u in urls)
    client.force_login(seller_of(inst, role="finance"))  # reads, never sells
    assert client.get(reverse("sales:new")).status_code == 403
    assert client.post(reverse("sales:cancel", args=[p.pk]), {"reason": "x"}).status_code == 403


def test_the_parent_reads_accepts_and_is_sent_to_pay(db, client):
    p = make_offer()
    client.force_login(p.parent.user)
    page = client.get(reverse("sales:offer", args=[p.pk])).content.decode()
    assert p.contract.text.splitlines()[0] in page and p.contract.text_sha256 in page
    url = reverse("sales:offer", args=[p.pk])
    r = client.post(url, {"action": "accept", "text_sha256": p.contract.text_sha256})
    assert r.status_code == 400 and "请勾选" in r.content.decode()
    r = client.post(url, {"action": "accept", "agree": "on", "text_sha256": p.contract.text_sha256})
    assert r.status_code == 302 and r["Location"] == reverse("sales:pay", args=[p.pk])
    p.refresh_from_db()
    assert p.status == S.ACCEPTED
    assert p.idempotency_key in client.get(r["Location"]).content.decode()


def test_a_parent_cannot_see_or_accept_someone_elses_offer(db, client):
    p = make_offer()
    client.force_login(new_parent().user)
    for name in ("offer", "pay", "sandbox"):
        assert client.get(reverse(f"sales:{name}", args=[p.pk])).status_code == 404
    r = client.post(
        reverse("sales:offer", args=[p.pk]),
        {"action": "accept", "agree": "on", "text_sha256": p.contract.text_sha256},
    )
    assert r.status_code == 404
    assert client.post(reverse("sales:sandbox", args=[p.pk]), {"action": "pay"}).status_code == 404
    p.refresh_from_db()
    assert p.status == S.OFFERED


def test_institution_staff_cannot_open_the_parents_pages(db, client):
    p = make_offer()
    client.force_login(seller_of(p.institution))
    assert client.get(reverse("sales:offer", args=[p.pk])).status_code == 403


def test_the_parent_sees_their_sales(db, client):
    parent = ParentFactory(phone="13500001234")
    make_offer(parent=parent)
    accept(make_offer(parent=parent))
    client.force_login(parent.user)
    page = client.get(reverse("sales:mine")).content.decode()
    assert "待家长确认" in page and "待付款" in page
