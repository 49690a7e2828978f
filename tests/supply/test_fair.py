"""The matching fair's services (supply/fair.py): each rule at its boundary with its refusal
(nothing written), who may, and the bureau's one run of the matching."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from afterschool.models import Provider, ProviderContract
from portal.models import AuditLog, SchoolPeriod
from supply import fair as fairs
from supply.fair_models import Fair, FairChoice, FairMatch, FairNeed, FairOffer
from tests.factories import SchoolFactory, SchoolStaffFactory
from tests.supply.fair_helpers import (
    bureau_as,
    choose,
    fair_of,
    need,
    offer,
    provider_member,
    term_of,
)

pytestmark = pytest.mark.django_db
SCHOOL, PROVIDER = FairChoice.Side.SCHOOL, FairChoice.Side.PROVIDER


def _msg(exc) -> str:
    return " ".join(exc.value.messages)


# --- opening and closing -------------------------------------------------------------------


def test_bureau_of_afterschool_opens_one_fair_a_term(world):
    bureau = bureau_as()
    term = term_of(world.school_a.district)
    fair = fairs.fair_open(actor=bureau, term_id=term.pk, name="春季双向选择会")
    assert fair.status == Fair.Status.OPEN
    assert AuditLog.objects.filter(action="supply.fair.opened", object_id=str(fair.pk)).exists()
    with pytest.raises(ValidationError) as exc:
        fairs.fair_open(actor=bureau, term_id=term.pk, name="又一次")
    assert "每学期一次" in _msg(exc)
    assert Fair.objects.count() == 1


def test_a_fair_is_for_a_term_not_yet_ended_and_never_a_vacation(world):
    bureau = bureau_as()
    ended = term_of(world.school_a.district, before=200, after=-1, name="上学期")
    with pytest.raises(ValidationError) as exc:
        fairs.fair_open(actor=bureau, term_id=ended.pk, name="补办")
    assert "已于" in _msg(exc) and "结束" in _msg(exc)
    # the last day of the term is still in time
    last_day = term_of(world.school_a.district, before=100, after=0, name="本学期")
    assert fairs.fair_open(actor=bureau, term_id=last_day.pk, name="末日")
    summer = term_of(world.school_a.district, name="暑假")
    SchoolPeriod.objects.filter(pk=summer.pk).update(kind=SchoolPeriod.Kind.SUMMER)
    with pytest.raises(ValidationError) as exc:
        fairs.fair_open(actor=bureau, term_id=summer.pk, name="暑期")
    assert "按学期举办" in _msg(exc)
    assert Fair.objects.count() == 1


@pytest.mark.parametrize("who", ["bureau", "principal_a"])
def test_only_bureau_staff_of_afterschool_open_a_fair(world, who):
    term = term_of(world.school_a.district)
    with pytest.raises(PermissionDenied):
        fairs.fair_open(actor=getattr(world, who), term_id=term.pk, name="x")
    assert not Fair.objects.exists()


def test_closing_freezes_postings(world):
    bureau = bureau_as()
    fair = fair_of(world.school_a.district)
    fairs.fair_close(actor=bureau, fair_id=fair.pk)
    fairs.fair_close(actor=bureau, fair_id=fair.pk)  # again: nothing more
    assert AuditLog.objects.filter(action="supply.fair.closed").count() == 1
    with pytest.raises(ValidationError) as exc:
        fairs.need_post(actor=world.principal_a, fair_id=fair.pk, kind="sports", grades=[3],
                        weekdays=[1], places=20, budget_per_lesson="50")  # fmt: skip
    assert "已截止" in _msg(exc)
    assert not FairNeed.objects.exists()


# --- needs and offers ----------------------------------------------------------------------


def test_a_principal_posts_a_need_a_teacher_may_not(world):
    fair = fair_of(world.school_a.district)
    n = fairs.need_post(actor=world.principal_a, fair_id=fair.pk, kind="arts", grades=[4, 3],
                        weekdays=[2], places=25, budget_per_lesson="45.50",
                        note="合唱")  # fmt: skip
    assert (n.school, n.grades, n.budget_per_lesson) == (world.school_a, [3, 4], Decimal("45.50"))
    assert AuditLog.objects.filter(action="supply.fair_need.posted").count() == 1
    with pytest.raises(PermissionDenied):
        fairs.need_post(actor=world.teacher_a, fair_id=fair.pk, kind="arts", grades=[3],
                        weekdays=[2], places=25, budget_per_lesson="45")  # fmt: skip
    assert FairNeed.objects.count() == 1


def test_a_need_is_refused_field_by_field_and_nothing_is_written(world):
    fair = fair_of(world.school_a.district)
    with pytest.raises(ValidationError) as exc:
        fairs.need_post(actor=world.principal_a, fair_id=fair.pk, kind="x", grades=[],
                        weekdays=[], places=0, budget_per_lesson="0")  # fmt: skip
    errors = exc.value.message_dict
    assert errors["kind"] == ["请选择课程类别。"]
    assert errors["grades"] == ["请至少选择一个年级。"]
    assert errors["weekdays"] == ["请至少选择一个服务日。"]
    assert "人数" in errors["places"][0]
    assert errors["budget_per_lesson"] == ["课时预算应大于0元。"]
    assert not FairNeed.objects.exists()


def test_a_school_posts_only_to_a_fair_of_its_district(world):
    other = SchoolFactory()  # another district
    principal = SchoolStaffFactory(school=other, role="principal").user
    fair = fair_of(world.school_a.district)
    with pytest.raises(ValidationError) as exc:
        fairs.need_post(actor=principal, fair_id=fair.pk, kind="arts", grades=[3],
                        weekdays=[2], places=25, budget_per_lesson="45")  # fmt: skip
    assert "不属于本校所在区" in _msg(exc)
    assert not FairNeed.objects.exists()


def _offer(user, fair, **kw):
    data = dict(title="篮球", kind="sports", grades=[3, 4], weekdays=[1, 3], places=30,
                capacity=1, price_per_lesson="50", outside_price="120")  # fmt: skip
    data.update(kw)
    return fairs.offer_post(actor=user, fair_id=fair.pk, **data)


def test_an_offer_is_priced_below_the_outside_price(world):
    fair = fair_of(world.school_a.district)
    member = provider_member()
    assert _offer(member, fair, price_per_lesson="119.99").provider == (
        member.organisation_member.organisation.provider
    )
    with pytest.raises(ValidationError) as exc:
        _offer(member, fair, price_per_lesson="120")
    assert exc.value.message_dict["price_per_lesson"] == [
        "课时单价120元须低于本机构校外同类课时价120元。"
    ]
    assert FairOffer.objects.count() == 1
    assert AuditLog.objects.filter(action="supply.fair_offer.posted").count() == 1


def test_an_offer_serves_at_most_the_setting_schools(world, settings):
    settings.PORTAL_FAIR_MAX_OFFER_CAPACITY = 3
    fair = fair_of(world.school_a.district)
    member = provider_member()
    assert _offer(member, fair, capacity=3).capacity == 3
    for bad in (4, 0):
        with pytest.raises(ValidationError) as exc:
            _offer(member, fair, capacity=bad)
        assert exc.value.message_dict["capacity"] == [
            "可服务学校数应为1至3所（每项供给最多服务3所学校）。"
        ]
    assert FairOffer.objects.count() == 1


@pytest.mark.parametrize("status", [Provider.Status.APPLIED, Provider.Status.EXITED])
def test_only_an_admitted_provider_offers(world, status):
    fair = fair_of(world.school_a.district)
    with pytest.raises(PermissionDenied):
        _offer(provider_member(status=status), fair)
    with pytest.raises(PermissionDenied):
        _offer(world.principal_a, fair)
    assert not FairOffer.objects.exists()


# --- ranked choices ------------------------------------------------------------------------


def _pair(world, **need_kw):
    fair = fair_of(world.school_a.district)
    member = provider_member()
    return fair, member, need(fair, world.school_a, **need_kw), offer(fair, member)


def test_a_school_ranks_compatible_offers_and_a_ranking_replaces_the_last(world):
    fair, member, n, o1 = _pair(world)
    o2 = offer(fair, member, title="足球")
    assert fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o2.pk, o1.pk])
    ranks = dict(FairChoice.objects.filter(side=SCHOOL).values_list("offer_id", "rank"))
    assert ranks == {o2.pk: 1, o1.pk: 2}
    fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o1.pk])
    assert list(FairChoice.objects.values_list("offer_id", "rank")) == [(o1.pk, 1)]
    assert AuditLog.objects.filter(action="supply.fair_need.ranked").count() == 2
    fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o1.pk])  # unchanged
    assert AuditLog.objects.filter(action="supply.fair_need.ranked").count() == 2


@pytest.mark.parametrize(
    "need_kw, rule",
    [
        ({"kind": "arts"}, "规则1课程类别一致"),
        ({"grades": (7, 8)}, "规则2年级有交集"),
        ({"weekdays": (4,)}, "规则3服务日有交集"),
        ({"budget": "49.99"}, "规则4课时单价不高于课时预算"),
    ],
)
def test_an_incompatible_pair_is_refused_naming_the_rule(world, need_kw, rule):
    fair, member, n, o = _pair(world, **need_kw)
    with pytest.raises(ValidationError) as exc:
        fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o.pk])
    assert rule in _msg(exc)
    with pytest.raises(ValidationError) as exc:
        fairs.offer_rank(actor=member, offer_id=o.pk, need_ids=[n.pk])
    assert rule in _msg(exc)
    assert not FairChoice.objects.exists()


def test_a_price_equal_to_the_budget_is_compatible(world):
    fair, member, n, o = _pair(world, budget="50")
    fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o.pk])
    fairs.offer_rank(actor=member, offer_id=o.pk, need_ids=[n.pk])
    assert FairChoice.objects.count() == 2


def test_at_most_the_setting_choices_and_none_twice(world, settings):
    settings.PORTAL_FAIR_MAX_CHOICES = 2
    fair, member, n, o1 = _pair(world)
    o2, o3 = offer(fair, member, title="足球"), offer(fair, member, title="排球")
    fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o1.pk, o2.pk])
    with pytest.raises(ValidationError) as exc:
        fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o1.pk, o2.pk, o3.pk])
    assert "最多填报2个志愿（已选3个）" in _msg(exc)
    with pytest.raises(ValidationError) as exc:
        fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o1.pk, o1.pk])
    assert "不能重复填报志愿" in _msg(exc)
    assert FairChoice.objects.count() == 2


def test_two_choices_of_one_side_never_share_a_rank(world):
    fair, member, n, o1 = _pair(world)
    o2 = offer(fair, member, title="足球")
    choose(SCHOOL, n, [o1])
    with pytest.raises(IntegrityError), transaction.atomic():
        FairChoice.objects.create(side=SCHOOL, need=n, offer=o2, rank=1)


def test_each_side_ranks_only_its_own(world):
    fair, member, n, o = _pair(world)
    with pytest.raises(PermissionDenied):
        fairs.need_rank(actor=world.principal_b, need_id=n.pk, offer_ids=[o.pk])
    with pytest.raises(PermissionDenied):
        fairs.offer_rank(actor=provider_member("org_b"), offer_id=o.pk, need_ids=[n.pk])
    other_fair = Fair.objects.create(term=term_of(world.school_a.district, name="秋"), name="秋")
    stranger = offer(other_fair, member)
    with pytest.raises(ValidationError) as exc:
        fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[stranger.pk])
    assert "不在“春季双向选择会”中" in _msg(exc)
    assert not FairChoice.objects.exists()


# --- the matching --------------------------------------------------------------------------


def test_the_bureau_matches_once_and_each_match_is_a_draft_contract(world):
    bureau = bureau_as()
    fair, member, n_a, o1 = _pair(world)
    n_b = need(fair, world.school_b)
    o2 = offer(fair, provider_member("org_b"), title="田径", price="40", outside="80")
    n_none = need(fair, world.school_b, kind="arts")
    # the chain's two needs: N_a and N_b both first choose O1; O1 prefers N_b
    choose(SCHOOL, n_a, [o1, o2])
    choose(SCHOOL, n_b, [o1, o2])
    choose(PROVIDER, o1, [n_b, n_a])
    choose(PROVIDER, o2, [n_a])
    made = fairs.fair_match(actor=bureau, fair_id=fair.pk)
    got = {(m.need_id, m.offer_id, m.how, m.school_rank, m.provider_rank) for m in made}
    assert got == {(n_b.pk, o1.pk, "mutual_first", 1, 1), (n_a.pk, o2.pk, "deferred", 2, 1)}
    contract = FairMatch.objects.get(need=n_a).contract
    assert (contract.provider, contract.price_per_lesson, contract.outside_price) == (
        o2.provider, Decimal("40"), Decimal("80"),
    )  # fmt: skip
    assert (contract.start, contract.end) == (fair.term.start, fair.term.end)
    assert "甲小学" in contract.items
    fair.refresh_from_db()
    assert fair.status == Fair.Status.MATCHED and fair.closed_at is not None
    audit = AuditLog.objects.get(action="supply.fair.matched")
    assert audit.new["unmatched"] == [n_none.pk]
    # again: the same result, nothing written
    before = (ProviderContract.objects.count(), AuditLog.objects.count())
    assert {m.pk for m in fairs.fair_match(actor=bureau, fair_id=fair.pk)} == {m.pk for m in made}
    assert (ProviderContract.objects.count(), AuditLog.objects.count()) == before
    # and nothing can be posted or ranked any more
    with pytest.raises(ValidationError):
        fairs.need_rank(actor=world.principal_a, need_id=n_a.pk, offer_ids=[])


def test_a_provider_that_left_the_whitelist_is_not_matched(world):
    bureau = bureau_as()
    fair, member, n, o = _pair(world)
    choose(SCHOOL, n, [o])
    choose(PROVIDER, o, [n])
    Provider.objects.filter(pk=o.provider_id).update(status=Provider.Status.EXITED)
    assert fairs.fair_match(actor=bureau, fair_id=fair.pk) == []
    assert not ProviderContract.objects.exists()


def test_only_the_bureau_matches(world):
    fair, member, n, o = _pair(world)
    for user in (world.principal_a, member, world.bureau):
        with pytest.raises(PermissionDenied):
            fairs.fair_match(actor=user, fair_id=fair.pk)
    assert Fair.objects.get().status == Fair.Status.OPEN


def test_the_demo_fair_is_built_through_the_services_once(db):
    from portal.demo import load_demo
    from supply import fair_demo

    load_demo()
    created = fair_demo.build()
    assert [u for u, _p in created] == ["org_yangguang"]
    fair = Fair.objects.get()
    assert fair.status == Fair.Status.MATCHED
    assert FairMatch.objects.count() == 2
    assert FairNeed.objects.filter(match__isnull=True).get().school.name == "示范区第一中学"
    assert fair_demo.build() == [] and Fair.objects.count() == 1


def test_a_withdrawn_need_leaves_no_gap_in_the_providers_ranking(world):
    fair, member, n1, o = _pair(world)
    n2, n3 = need(fair, world.school_a), need(fair, world.school_b)
    choose(PROVIDER, o, [n1, n2, n3])
    choose(SCHOOL, n2, [o])
    fairs.need_withdraw(actor=world.principal_a, need_id=n1.pk)
    ranks = list(
        FairChoice.objects.filter(side=PROVIDER).order_by("rank").values_list("need", "rank")
    )
    assert ranks == [(n2.pk, 1), (n3.pk, 2)]
    assert AuditLog.objects.get(action="supply.fair_need.withdrawn").old["school"] == (
        world.school_a.pk
    )
    with pytest.raises(PermissionDenied):
        fairs.need_withdraw(actor=world.principal_a, need_id=n3.pk)  # 乙小学's need
    fairs.offer_withdraw(actor=member, offer_id=o.pk)
    assert not FairChoice.objects.exists() and not FairOffer.objects.exists()
    assert FairNeed.objects.count() == 2


def test_nothing_is_withdrawn_once_the_fair_is_closed(world):
    fair, member, n, o = _pair(world)
    fairs.fair_close(actor=bureau_as(), fair_id=fair.pk)
    with pytest.raises(ValidationError):
        fairs.need_withdraw(actor=world.principal_a, need_id=n.pk)
    with pytest.raises(ValidationError):
        fairs.offer_withdraw(actor=member, offer_id=o.pk)
    with pytest.raises(PermissionDenied):
        fairs.offer_withdraw(actor=provider_member("org_b"), offer_id=o.pk)
    assert (FairNeed.objects.count(), FairOffer.objects.count()) == (1, 1)
