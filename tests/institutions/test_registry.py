import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from institutions import colour, uscc
from institutions.models import GovernanceStep, Institution, ListChange
from institutions.services import (
    governance_move,
    institution_register,
    institution_resume,
    institution_suspend,
)
from portal.models import AuditLog
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return training_staff()


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91350200776049653A"])
def test_the_domain_examples_are_valid_credit_codes(code):
    assert uscc.problem(code) is None


@pytest.mark.parametrize(
    "code, message",
    [
        ("91350100M000100Y44", "校验位不正确"),
        ("91350100M000100Y4", "应为18位"),
        ("91350100M000100YI3", "不允许的字符"),
    ],
)
def test_bad_credit_codes_say_why(code, message):
    assert message in uscc.problem(code)


def test_a_bad_legacy_code_needs_an_override_with_a_reason_and_is_audited(world, staff):
    data = {"name": "老机构", "credit_code": "91350100M000100Y44", "category": "non_subject",
            "subjects": ["体育"], "mode": "offline", "nature": "for_profit",
            "district": world.school_a.district, "licence_number": "L1",
            "licence_expires": dt.date(2027, 1, 1)}  # fmt: skip
    with pytest.raises(ValidationError, match="校验位不正确"):
        institution_register(actor=staff, **data)
    with pytest.raises(ValidationError, match="必须说明理由"):
        institution_register(actor=staff, override=True, **data)
    institution = institution_register(
        actor=staff, override=True, override_reason="2015年前发证的旧代码", **data
    )
    assert institution.credit_code_override
    row = AuditLog.objects.get(action="institutions.credit_code.overridden")
    assert row.new["reason"] == "2015年前发证的旧代码" and row.actor == staff


def test_a_complete_institution_is_white(world, staff):
    institution = make_institution(staff, world.school_a.district)
    assert colour.verdict(institution).colour == colour.WHITE
    assert ListChange.objects.filter(institution=institution).latest("changed_at").colour == "white"


def test_without_supervised_fees_or_a_review_it_is_grey(world, staff):
    institution = make_institution(staff, world.school_a.district, white=False)
    v = colour.verdict(institution)
    assert v.colour == colour.GREY
    assert "预收费未纳入监管" in v.reasons and "年检未通过或已逾期" in v.reasons


@pytest.mark.parametrize("expires, expected", [(0, "white"), (-1, "black")])
def test_an_expired_licence_is_black_from_the_day_after_it_expires(world, staff, expires, expected):
    today = timezone.localdate()
    institution = make_institution(
        staff, world.school_a.district, licence_expires=today + dt.timedelta(days=expires)
    )
    assert colour.verdict(institution).colour == expected
    annotated = Institution.objects.annotate(c=colour.colour_expression()).get(pk=institution.pk)
    assert annotated.c == expected  # the SQL agrees with Python


def test_suspension_greys_and_resuming_whitens_with_changes_recorded(world, staff):
    institution = make_institution(staff, world.school_a.district)
    with pytest.raises(ValidationError):
        institution_suspend(actor=staff, institution_id=institution.pk, reason=" ")
    institution_suspend(actor=staff, institution_id=institution.pk, reason="违规招生，停业整顿")
    institution.refresh_from_db()
    assert colour.verdict(institution).colour == "grey"
    institution_resume(actor=staff, institution_id=institution.pk)
    colours = list(
        institution.list_changes.order_by("changed_at", "id").values_list("colour", flat=True)
    )
    assert colours == ["grey", "white", "grey", "white"]  # registered, reviewed, suspended, back


def test_governance_moves_only_along_allowed_steps(world, staff):
    institution = make_institution(staff, world.school_a.district)
    assert institution.governance == "pending"
    with pytest.raises(ValidationError, match="不能直接变为"):
        governance_move(
            actor=staff,
            institution_id=institution.pk,
            to="converted",
            date=dt.date(2026, 3, 1),
            note="x",
        )
    with pytest.raises(ValidationError, match="说明"):
        governance_move(
            actor=staff,
            institution_id=institution.pk,
            to="converting",
            date=dt.date(2026, 3, 1),
            note="",
        )
    governance_move(
        actor=staff,
        institution_id=institution.pk,
        to="converting",
        date=dt.date(2026, 3, 1),
        note="已受理营转非申请",
    )
    governance_move(
        actor=staff,
        institution_id=institution.pk,
        to="converted",
        date=dt.date(2026, 5, 1),
        note="民政部门登记为民办非企业单位",
    )
    institution.refresh_from_db()
    assert institution.governance == "converted" and institution.nature == "non_profit"
    steps = list(
        GovernanceStep.objects.filter(institution=institution).values_list("to_status", "note")
    )
    assert steps == [
        ("converting", "已受理营转非申请"),
        ("converted", "民政部门登记为民办非企业单位"),
    ]
    assert AuditLog.objects.filter(action="institutions.governance.converted").exists()
    governance_move(
        actor=staff,
        institution_id=institution.pk,
        to="deregistering",
        date=dt.date(2026, 9, 1),
        note="申请注销",
    )
    governance_move(
        actor=staff,
        institution_id=institution.pk,
        to="deregistered",
        date=dt.date(2026, 10, 1),
        note="已注销",
    )
    institution.refresh_from_db()
    assert colour.verdict(institution).colour == "black"
    with pytest.raises(ValidationError):
        governance_move(
            actor=staff,
            institution_id=institution.pk,
            to="converting",
            date=dt.date(2026, 11, 1),
            note="x",
        )


def test_the_public_search_finds_part_of_a_chinese_name(world, staff, client):
    d = world.school_a.district
    make_institution(staff, d, name="博雅英语培训学校", subjects=["外语"])
    make_institution(staff, d, name="博学数学培训中心", white=False)
    make_institution(staff, d, name="星光篮球俱乐部", category="non_subject", subjects=["体育"])
    html = client.get(reverse("institutions:search"), {"q": "英语培训"}).content.decode()
    assert "博雅英语培训学校" in html and "博学数学" not in html
    html = client.get(reverse("institutions:search"), {"q": "博"}).content.decode()
    assert "共 2 家机构" in html
    html = client.get(reverse("institutions:search"), {"category": "non_subject"}).content.decode()
    assert "星光篮球俱乐部" in html and "博雅" not in html
    html = client.get(reverse("institutions:search"), {"colour": "grey"}).content.decode()
    assert "博学数学培训中心" in html and "博雅英语" not in html
    html = client.get(reverse("institutions:search"), {"subject": "外语"}).content.decode()
    assert "博雅英语培训学校" in html and "博学数学" not in html


def test_the_search_page_and_api_run_a_fixed_number_of_queries(
    world, staff, client, django_assert_num_queries
):
    for i in range(25):
        make_institution(
            staff, world.school_a.district, name=f"培训机构{i:02d}号", white=i % 2 == 0
        )
    # districts for the form, the page with its count (the colour is stored, and where it
    # is stale it is computed in the same SQL, the policy read there too)
    with django_assert_num_queries(2):
        client.get(reverse("institutions:search"), {"q": "培训机构"})
    with django_assert_num_queries(1):  # the page with its count
        response = client.get(reverse("api-institutions"), {"q": "培训机构"})
    body = response.json()
    assert body["count"] == 25 and len(body["results"]) == 25
    assert {r["colour"] for r in body["results"]} == {"white", "grey"}


def test_the_api_filters_and_is_in_the_schema(world, staff, client):
    make_institution(staff, world.school_a.district, name="博雅英语培训学校")
    body = client.get(reverse("api-institutions"), {"q": "博雅", "colour": "white"}).json()
    assert [r["name"] for r in body["results"]] == ["博雅英语培训学校"]
    assert body["results"][0]["colour_label"] == "白名单"
    assert client.get(reverse("api-institutions"), {"category": "nope"}).status_code == 400
    schema = client.get(reverse("api-schema")).content.decode()
    assert "/api/institutions/" in schema


def test_an_institutions_page_shows_colour_reasons_supervision_and_courses(world, staff, client):
    institution = make_institution(staff, world.school_a.district)
    html = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert "白名单" in html and "银行托管 · 工商银行" in html
    assert "6222020200112233" not in html
    assert "名单状态更新于" in html


def test_the_board_is_for_training_staff_only(world, staff, client_for):
    make_institution(staff, world.school_a.district, name="甲培训")
    other = make_institution(staff, world.school_a.district, name="乙培训", white=False)
    governance_move(
        actor=staff, institution_id=other.pk, to="converting", date=dt.date(2026, 3, 1), note="受理"
    )
    html = client_for(staff).get(reverse("institutions:board")).content.decode()
    assert "甲培训" in html and "乙培训" in html and "营转非办理中" in html
    assert "资金已托管 <strong>1</strong>/2" in html
    for user in (world.principal_a, world.parent_a, world.bureau):
        assert client_for(user).get(reverse("institutions:board")).status_code == 403
    assert client_for(None).get(reverse("institutions:board")).status_code == 302
