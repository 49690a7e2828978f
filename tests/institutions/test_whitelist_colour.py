"""The stored list colour (issue 20): refreshed by the services, kept honest by the triggers
of migration 0009 whatever writes the inputs, and never trusted past ``colour_until`` (so
midnight stays right whether or not the nightly refresh ran)."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from institutions import colour, enforcement, selectors, services
from institutions.enforcement_models import CHECKLIST, Sanction
from institutions.models import AnnualReview, Institution, SupervisedAccount, TrainingPolicy
from institutions.tasks import colour_refresh_due
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def staff(db):
    return training_staff()


@pytest.fixture
def inst(world, staff):
    return make_institution(staff, world.school_a.district, name="启航数学培训学校")


def _row(inst) -> Institution:
    return Institution.objects.get(pk=inst.pk)


def _sql_colour(inst, today):
    return (
        Institution.objects.filter(pk=inst.pk)
        .annotate(c=colour.stored_colour_expression(today=today))
        .values_list("c", flat=True)
        .get()
    )


def assert_stored_right(inst, today=TODAY):
    """Fresh, and what is stored is what verdict computes, in Python and in SQL."""
    row = _row(inst)
    computed = colour.verdict(row, today=today)
    assert row.colour_until is not None and row.colour_until >= today, "stale"
    assert row.list_colour == computed.colour
    assert colour.stored_verdict(row, today=today) == computed
    assert _sql_colour(inst, today) == computed.colour
    return row


def assert_stale_but_right(inst, today=TODAY):
    row = _row(inst)
    assert row.colour_until is None
    computed = colour.verdict(row, today=today)
    assert colour.stored_verdict(row, today=today) == computed
    assert _sql_colour(inst, today) == computed.colour
    return computed


def _visit(staff, inst):
    results = {c.value: (True, "") for c in CHECKLIST}
    return enforcement.visit_record(
        actor=staff, institution_id=inst.pk, date=TODAY - dt.timedelta(days=40), results=results
    )


# --- every input, through its service ------------------------------------------------------


def test_a_registered_institution_is_stored_white_with_its_reason(inst):
    row = assert_stored_right(inst)
    assert row.list_colour == colour.WHITE and row.list_reasons == [["ok", None]]
    # white holds until the earlier of the licence's expiry and the review's validity end
    months = TrainingPolicy.current().review_valid_months
    assert row.colour_until == min(
        row.licence_expires, colour._review_last_day(dt.date(2026, 6, 30), months)
    )


def test_without_account_or_review_it_is_stored_grey(world, staff):
    inst = make_institution(staff, world.school_a.district, white=False)
    row = assert_stored_right(inst)
    assert row.list_colour == colour.GREY
    assert [code for code, _arg in row.list_reasons] == ["unsupervised", "review"]


def test_suspension_and_resumption_store_each_colour(inst, staff):
    services.institution_suspend(actor=staff, institution_id=inst.pk, reason="停业整顿")
    row = assert_stored_right(inst)
    assert row.list_colour == colour.GREY
    assert "已暂停：停业整顿" in colour.stored_verdict(row).reasons
    services.institution_resume(actor=staff, institution_id=inst.pk)
    assert assert_stored_right(inst).list_colour == colour.WHITE


def test_deregistration_stores_black(world, staff):
    inst = make_institution(staff, world.school_a.district)
    for step in ("deregistering", "deregistered"):
        services.governance_move(
            actor=staff, institution_id=inst.pk, to=step, date=TODAY, note="注销"
        )
    row = assert_stored_right(inst)
    assert row.list_colour == colour.BLACK
    assert ["deregistered", None] in row.list_reasons


def test_an_old_review_stores_grey_and_a_new_one_white(world, staff):
    inst = make_institution(staff, world.school_a.district, white=False)
    SupervisedAccount.objects.create(
        institution=inst, kind="escrow", bank="工商银行", account_name="x", account_number="1"
    )
    services.review_record(actor=staff, institution_id=inst.pk, year=2020, result="passed",
                           date=dt.date(2020, 6, 30))  # fmt: skip
    assert assert_stored_right(inst).list_colour == colour.GREY
    services.review_record(actor=staff, institution_id=inst.pk, year=2026, result="passed",
                           date=TODAY)  # fmt: skip
    assert assert_stored_right(inst).list_colour == colour.WHITE


def test_a_rectification_is_stored_white_until_its_deadline_and_revocation_black(inst, staff):
    deadline = TODAY + dt.timedelta(days=3)
    sanction = enforcement.sanction_decide(
        actor=staff, institution_id=inst.pk, kind="rectify", reason="超时培训",
        decided_on=TODAY - dt.timedelta(days=40), deadline=deadline,
        visit_id=_visit(staff, inst).pk,
    )  # fmt: skip
    row = assert_stored_right(inst)
    assert row.list_colour == colour.WHITE and row.colour_until == deadline
    enforcement.sanction_close(actor=staff, sanction_id=sanction.pk, closed_on=TODAY, note="复查")
    assert assert_stored_right(inst).colour_until > deadline
    enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="revoke",
                                decided_on=TODAY, reason="拒不整改",
                                visit_id=_visit(staff, inst).pk)  # fmt: skip
    assert assert_stored_right(inst).list_colour == colour.BLACK


# --- a writer that forgets: the triggers ---------------------------------------------------


def test_a_raw_licence_change_makes_the_row_stale_and_readers_compute_it(inst):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE institutions_institution SET licence_expires = %s WHERE id = %s",
            [TODAY - dt.timedelta(days=1), inst.pk],
        )
    assert assert_stale_but_right(inst).colour == colour.BLACK


@pytest.mark.parametrize(
    "write",
    [
        lambda i: SupervisedAccount.objects.filter(institution=i).update(active=False),
        lambda i: SupervisedAccount.objects.filter(institution=i).delete(),
        lambda i: AnnualReview.objects.filter(institution=i).delete(),
        lambda i: AnnualReview.objects.filter(institution=i).update(date=dt.date(2020, 1, 1)),
        lambda i: Institution.objects.filter(pk=i.pk).update(suspended_reason="未报备"),
        lambda i: Institution.objects.filter(pk=i.pk).update(governance="deregistered"),
        lambda i: Institution.objects.filter(pk=i.pk).update(licence_revoked=True),
        lambda i: Institution.objects.filter(pk=i.pk).update(licence_number=""),
    ],
    ids=[
        "account-off",
        "account-gone",
        "review-gone",
        "review-old",
        "suspended",
        "deregistered",
        "revoked",
        "no-licence",
    ],  # fmt: skip
)
def test_every_raw_change_of_an_input_makes_the_row_stale(inst, write):
    assert_stored_right(inst)
    write(inst)
    assert assert_stale_but_right(inst).colour != colour.WHITE
    colour.refresh([inst.pk])
    assert_stored_right(inst)


def test_a_raw_rectification_past_its_deadline_makes_the_row_stale(inst, staff):
    v = _visit(staff, inst)
    Sanction.objects.create(
        institution=inst, kind="rectify", decided_on=TODAY - dt.timedelta(days=30),
        reason="x", deadline=TODAY - dt.timedelta(days=1), visit=v, decided_by=staff,
    )  # fmt: skip
    assert assert_stale_but_right(inst).colour == colour.GREY


def test_what_is_not_an_input_leaves_the_row_fresh(inst, staff):
    # the boundary of the triggers: a 警告, a deposit's balance, the name
    Sanction.objects.create(
        institution=inst, kind="warning", decided_on=TODAY, reason="x",
        visit=_visit(staff, inst), decided_by=staff,
    )  # fmt: skip
    SupervisedAccount.objects.filter(institution=inst).update(deposit_amount=100)
    Institution.objects.filter(pk=inst.pk).update(name="改名培训学校", scale=3)
    assert_stored_right(inst)


def test_only_the_refresh_may_write_the_stored_colour(world, staff):
    grey = make_institution(staff, world.school_a.district, name="灰机构", white=False)
    before = _row(grey)
    with connection.cursor() as cursor:  # a forged white that would hold for ever
        cursor.execute(
            "UPDATE institutions_institution SET list_colour = 'white', list_reasons = '[]',"
            " colour_until = '9999-12-31' WHERE id = %s",
            [grey.pk],
        )
    after = _row(grey)
    assert (after.list_colour, after.list_reasons, after.colour_until) == (
        before.list_colour, before.list_reasons, before.colour_until,
    )  # fmt: skip
    # a model save of an old copy cannot bring back an old colour either
    before.list_colour, before.colour_until = colour.WHITE, dt.date.max
    before.save()
    assert _row(grey).list_colour == colour.GREY
    # and a new row starts stale, whatever it says
    Institution.objects.filter(pk=grey.pk).update(colour_until=None)
    assert _row(grey).colour_until is None


def test_a_change_of_the_review_period_makes_every_row_stale(world, staff, inst):
    other = make_institution(staff, world.school_a.district, name="另一机构")
    policy = TrainingPolicy.current()
    policy.review_valid_months = 1
    policy.save()
    for i in (inst, other):
        assert assert_stale_but_right(i).colour == colour.GREY  # the 2026-06-30 review lapsed


# --- midnight ---------------------------------------------------------------------------------


def test_a_licence_expiring_today_is_white_today_and_black_after_midnight(world, staff):
    inst = make_institution(staff, world.school_a.district, licence_expires=TODAY)
    row = assert_stored_right(inst)
    assert row.list_colour == colour.WHITE and row.colour_until == TODAY
    tomorrow = TODAY + dt.timedelta(days=1)
    # nothing ran: the stored white has run out and every reader computes black
    assert colour.stored_verdict(row, today=tomorrow).colour == colour.BLACK
    assert _sql_colour(inst, tomorrow) == colour.BLACK
    page = selectors.public_search_page(q="明德学科", page=1)
    assert [r["colour"] for r in page.rows] == [colour.WHITE]


def test_the_search_page_turns_black_at_midnight_without_any_refresh(
    world, staff, client, monkeypatch
):
    make_institution(staff, world.school_a.district, name="到期英语学校",
                     licence_expires=TODAY)  # fmt: skip
    url = reverse("institutions:search")
    assert "白名单" in client.get(url, {"q": "到期英语"}).content.decode()
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY + dt.timedelta(days=1))
    html = client.get(url, {"q": "到期英语"}).content.decode()
    assert "黑名单" in html and "白名单</span>" not in html
    body = client.get(reverse("api-institutions"), {"q": "到期英语"}).json()
    assert body["results"][0]["colour"] == colour.BLACK


def test_a_review_is_white_through_its_last_valid_day(world, staff):
    months = TrainingPolicy.current().review_valid_months
    inst = make_institution(staff, world.school_a.district, white=False)
    SupervisedAccount.objects.create(
        institution=inst, kind="escrow", bank="工商银行", account_name="x", account_number="1"
    )
    passed_on = TODAY - relativedelta(months=months) + dt.timedelta(days=2)
    services.review_record(actor=staff, institution_id=inst.pk, year=passed_on.year,
                           result="passed", date=passed_on)  # fmt: skip
    row = assert_stored_right(inst)
    last = row.colour_until
    assert last == colour._review_last_day(passed_on, months) >= TODAY
    assert colour.verdict(row, today=last).colour == colour.WHITE
    assert _sql_colour(inst, last) == colour.WHITE
    after = last + dt.timedelta(days=1)
    assert colour.verdict(row, today=after).colour == colour.GREY
    assert colour.stored_verdict(row, today=after).colour == colour.GREY
    assert _sql_colour(inst, after) == colour.GREY


@pytest.mark.parametrize("months", [1, 6, 12, 15])
def test_the_review_last_day_is_the_last_day_the_rule_counts_it(months):
    step = relativedelta(months=months)
    days = [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2024, 2, 29),
            dt.date(2026, 8, 31), dt.date(2026, 6, 30), dt.date(2026, 12, 1)]  # fmt: skip
    for passed_on in days:
        last = colour._review_last_day(passed_on, months)
        assert last - step <= passed_on  # counted on its last day
        assert (last + dt.timedelta(days=1)) - step > passed_on  # not the day after


def test_a_rectification_deadline_day_is_white_and_the_day_after_grey(inst, staff):
    deadline = TODAY
    enforcement.sanction_decide(
        actor=staff, institution_id=inst.pk, kind="rectify", reason="超时培训",
        decided_on=TODAY - dt.timedelta(days=40), deadline=deadline,
        visit_id=_visit(staff, inst).pk,
    )  # fmt: skip
    row = assert_stored_right(inst)
    assert row.colour_until == deadline
    after = deadline + dt.timedelta(days=1)
    stored = colour.stored_verdict(row, today=after)
    assert stored.colour == colour.GREY and stored == colour.verdict(row, today=after)
    assert _sql_colour(inst, after) == colour.GREY


def test_the_nightly_refresh_stores_what_ran_out_and_what_is_stale(world, staff):
    expiring = make_institution(staff, world.school_a.district, licence_expires=TODAY)
    lasting = make_institution(staff, world.school_a.district, name="长期机构")
    Institution.objects.filter(pk=lasting.pk).update(colour_until=None)  # stale: a raw write
    tomorrow = TODAY + dt.timedelta(days=1)
    assert colour.refresh_due(today=tomorrow) == 2
    row = _row(expiring)
    assert row.list_colour == colour.BLACK and row.colour_until == colour.FOREVER
    assert row.list_reasons == [["expired", TODAY.isoformat()]]
    assert colour.stored_verdict(row, today=tomorrow) == colour.verdict(row, today=tomorrow)
    assert _row(lasting).colour_until >= tomorrow
    assert colour.refresh_due(today=tomorrow) == 0  # nothing left to do


def test_the_nightly_task_refreshes(inst):
    Institution.objects.filter(pk=inst.pk).update(colour_until=None)
    assert colour_refresh_due() == 1
    assert_stored_right(inst)


# --- the readers: same rows, pinned queries --------------------------------------------------


def test_the_raw_search_returns_what_the_queryset_does(world, staff):
    d = world.school_a.district
    names = ["博雅英语培训学校", "博学数学培训中心", "ABC英语俱乐部", "abc少儿编程",
             "100%_满分学堂", "星光 篮球 俱乐部", "博"]  # fmt: skip
    for i, name in enumerate(names):
        make_institution(staff, d, name=name, white=i % 2 == 0,
                         category="non_subject" if i % 3 else "subject")  # fmt: skip
    Institution.objects.filter(name="博学数学培训中心").update(colour_until=None)  # computed
    queries = ["博", "博雅", "英语培训", "abc", "ABC英语", "100%_", "%", "_", "星光篮球",
               "篮球俱乐部", "无此机构", ""]  # fmt: skip
    cases = [{"q": q} for q in queries] + [
        {"category": "subject"}, {"list_colour": "grey"}, {"list_colour": "white", "q": "博"},
        {"district": d.pk, "q": "俱乐部"}, {"subject": "数学"},
    ]  # fmt: skip
    for case in cases:
        expected = [(i.pk, i.colour) for i in selectors.public_search(**case)]
        page = selectors.public_search_page(**case, per_page=100)
        assert [(r["id"], r["colour"]) for r in page.rows] == expected, case
        assert page.count == len(expected)


def test_pages_past_the_last_show_the_last(world, staff, client):
    for i in range(23):
        make_institution(staff, world.school_a.district, name=f"翻页机构{i:02d}")
    page = selectors.public_search_page(q="翻页机构", page=9)
    assert (page.number, page.count, len(page.rows)) == (2, 23, 3)
    api = reverse("api-institutions")
    assert client.get(api, {"q": "翻页机构", "page": "2"}).status_code == 404  # 50 a page
    assert client.get(api, {"q": "翻页机构", "page": "x"}).status_code == 404
    last = client.get(api, {"q": "翻页机构", "page": "last"}).json()
    assert last["count"] == 23 and len(last["results"]) == 23 and last["next"] is None


def test_the_public_pages_run_a_fixed_number_of_queries(
    world, staff, client, django_assert_num_queries
):
    for i in range(30):
        make_institution(staff, world.school_a.district, name=f"查询机构{i:02d}", white=i % 3 > 0)
    with django_assert_num_queries(2):  # the districts, the page with its count
        html = client.get(reverse("institutions:search"), {"q": "查询机构"}).content.decode()
    assert "共 30 家机构" in html and "灰名单" in html
    with django_assert_num_queries(1):  # the page with its count
        body = client.get(reverse("api-institutions"), {"q": "查询机构"}).json()
    assert body["count"] == 30 and len(body["results"]) == 30
    # some stored colours stale: their colours computed, all of them in one more query
    Institution.objects.filter(name__endswith="5").update(colour_until=None)
    with django_assert_num_queries(3):
        html = client.get(reverse("institutions:search"), {"q": "查询机构"}).content.decode()
    assert "共 30 家机构" in html and "灰名单" in html
    with django_assert_num_queries(2):
        body = client.get(reverse("api-institutions"), {"q": "查询机构"}).json()
    assert body["count"] == 30 and len(body["results"]) == 30
    fresh = Institution.objects.get(name="查询机构01")
    # one query: the institution (district, account, last change, overdue 整改 joined), its
    # courses with their slots, its sanctions, its 通报 entries; the colour is the stored one
    with django_assert_num_queries(1):
        html = client.get(reverse("institutions:detail", args=[fresh.pk])).content.decode()
    assert "白名单" in html and "证照有效、年检合格、预收费已纳入监管" in html


def test_the_search_form_keeps_what_was_asked_and_escapes_it(world, staff, client):
    d = world.school_a.district
    make_institution(staff, d, name="博雅英语培训学校", subjects=["外语"])
    url = reverse("institutions:search")
    html = client.get(url, {"q": '"><b>博雅', "district": d.pk, "category": "subject",
                            "colour": "white"}).content.decode()  # fmt: skip
    assert "<b>博雅" not in html and "&quot;&gt;&lt;b&gt;博雅" in html
    assert f'<option value="{d.pk}" selected>' in html
    assert '<option value="subject" selected>' in html and '<option value="white" selected>' in html
    # an invalid filter applies nothing and selects nothing but each "all" option
    html = client.get(url, {"category": "nope"}).content.decode()
    assert html.count(" selected>") == 4 and '<option value="" selected>全部类别' in html
    assert "博雅英语培训学校" in html


def test_the_api_refuses_what_its_filters_refuse(world, staff, client, django_assert_num_queries):
    make_institution(staff, world.school_a.district, name="博雅英语培训学校")
    api = reverse("api-institutions")
    for bad in ({"district": "abc"}, {"colour": "pink"}, {"subject": "烹饪"}, {"category": "x"}):
        assert client.get(api, {"q": "博雅", **bad}).status_code == 400, bad
    with django_assert_num_queries(1):
        body = client.get(api, {"q": "博雅", "district": world.school_a.district.pk,
                                "colour": "white", "category": "subject"}).json()  # fmt: skip
    assert [r["name"] for r in body["results"]] == ["博雅英语培训学校"]
    assert body["results"][0]["district"] == world.school_a.district.name


def test_hostile_numbers_are_no_error(world, staff, client):
    make_institution(staff, world.school_a.district, name="博雅英语培训学校")
    huge = "9" * 25
    assert selectors.public_search_page(q="博雅", district=huge).count == 0
    page = selectors.public_search_page(q="博雅", page=int(huge))
    assert (page.number, page.count) == (1, 1)
    url, api = reverse("institutions:search"), reverse("api-institutions")
    assert client.get(url, {"q": "博雅", "page": huge, "district": huge}).status_code == 200
    assert client.get(api, {"q": "博雅", "district": huge}).json()["count"] == 0
    assert client.get(api, {"q": "博雅", "page": huge}).status_code == 404
