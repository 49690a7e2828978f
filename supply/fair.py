"""The matching fair (双向选择会, issue 19 part 2): every write of the fair, and its rules.

The life of a fair (one per term of a district):

1. Bureau staff of 课后服务 open it for a term (``fair_open``). While it is open, a school's
   principal or 教导处 posts needs (``need_post``: kind of course, grades, days, places, a
   budget per lesson) and an admitted provider's members (an Organisation whose ``provider``
   is on the whitelist, status 已准入) post offers (``offer_post``: kind, grades, days, places
   per class, how many schools it can serve, a price per lesson below its price outside
   school, as every contract of the whitelist).
2. Both sides mark ranked choices (志愿): a school ranks offers for each of its needs
   (``need_rank``), a provider ranks needs for each of its offers (``offer_rank``), at most
   ``PORTAL_FAIR_MAX_CHOICES`` each. Only compatible pairs may be chosen (``problems``):

   - 规则1 课程类别一致 (the offer's kind is the need's kind);
   - 规则2 年级有交集 (the offer serves at least one grade of the need);
   - 规则3 服务日有交集 (at least one day in common);
   - 规则4 课时单价不高于课时预算 (the offer's price ≤ the need's budget).

   A ranking replaces the side's previous ranking of that need or offer; the order of the
   list is the rank (1 = first choice), so two choices of one side never share a rank (ties
   are impossible by construction; the database says so too, FairChoice's constraints).
   While the fair is open, a side may withdraw a posting (``need_withdraw``,
   ``offer_withdraw``): its choices go and the other side's rankings close up.
3. Bureau staff close it (``fair_close``: the choices are frozen) and press 匹配 once
   (``fair_match``; it closes an open fair too). Pressing it again changes nothing and
   writes nothing (idempotent): a fair is matched once.

The matching (``match``, a pure function, deterministic):

- A pair is acceptable only when both sides chose each other (the school listed the offer
  for the need and the provider listed the need for the offer). Anything else never matches.
- Each need is served by at most one offer. Each offer has a capacity: ``FairOffer.capacity``,
  the number of schools' needs it can serve (可服务学校数, at most
  ``PORTAL_FAIR_MAX_OFFER_CAPACITY``), which the provider states when it posts the offer.
  An offer whose provider is no longer admitted when the matching runs has capacity 0.
- Step 1, mutual first choices (互为第一志愿): a need whose first choice is an offer whose
  first choice is that need is matched to it (taking one of the offer's places). An offer
  is the first choice of many needs but has one first choice itself, so each offer gets at
  most one match in this step.
- Step 2, deferred acceptance (延迟接受, Gale–Shapley) for the remaining needs and the
  offers' remaining capacity: needs propose, in the order of their school's ranking, to the
  acceptable offers; each offer holds the best proposals by its provider's ranking up to its
  remaining capacity and rejects the rest; a rejected need proposes to its next choice; it
  ends when every need is held or has no acceptable offer left (unmatched). Needs propose in
  the order of their primary keys; the outcome does not depend on that order (needs-
  proposing deferred acceptance gives the one need-optimal stable matching), the order only
  makes each run identical.

  A mutual first pair is in that stable matching anyway (the need proposes to the offer
  first and the offer holds its first choice whatever else comes), so step 1 only names
  those matches (``FairMatch.how``); it never changes the result of step 2.

- Each match becomes a draft contract (合同草案) of the provider at the offer's price for the
  term, through ``afterschool.providers.contract_add`` (which refuses a price not below the
  outside price, as for every contract); the school then puts a course on its menu against
  it as today. The school and the provider see their matches on the fair's page; the bureau
  sees the unmatched needs per school (page and dashboard panel).
"""

from collections import deque
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from afterschool.models import Provider
from portal.audit import audit_record
from portal.locks import locked
from portal.models import SchoolPeriod
from portal.notices import notify
from portal.permissions import is_bureau, is_organisation_member, is_school_manager, require
from supply.fair_models import Fair, FairChoice, FairKind, FairMatch, FairNeed, FairOffer

Status = Fair.Status
Side = FairChoice.Side

RULES = {
    1: "课程类别一致",
    2: "年级有交集",
    3: "服务日有交集",
    4: "课时单价不高于课时预算",
}


# --- who may -------------------------------------------------------------------------------


def may_run(user) -> bool:
    """Bureau staff of 课后服务 (the supply app is theirs: portal.setup.STAFF_GROUPS)."""
    return is_bureau(user, line="afterschool") and is_bureau(user, line="supply")


def provider_of(user) -> Provider | None:
    """The admitted provider a user posts offers for: a member of an organisation whose
    provider is on the whitelist (已准入); None for anyone else."""
    if not is_organisation_member(user):
        return None
    organisation = user.organisation_member.organisation
    if not getattr(organisation, "active", True):  # deactivated by the bureau
        return None
    provider = organisation.provider
    if provider is None or provider.status != Provider.Status.ADMITTED:
        return None
    return provider


def may_offer(user) -> bool:
    return provider_of(user) is not None


def may_need(user) -> bool:
    return is_school_manager(user)


def may_see(user) -> bool:
    return may_run(user) or may_need(user) or may_offer(user)


# --- the rules -----------------------------------------------------------------------------


def problems(need: FairNeed, offer: FairOffer) -> list[str]:
    """The compatibility rules a (need, offer) pair breaks, each named with its number."""
    found = []
    if offer.kind != need.kind:
        found.append(
            f"规则1{RULES[1]}：需求为{need.get_kind_display()}，供给为{offer.get_kind_display()}"
        )
    if not set(offer.grades) & set(need.grades):
        found.append(f"规则2{RULES[2]}：需求{need.grades_text}，供给{offer.grades_text}")
    if not set(offer.weekdays) & set(need.weekdays):
        found.append(f"规则3{RULES[3]}：需求{need.days_text}，供给{offer.days_text}")
    if offer.price_per_lesson > need.budget_per_lesson:
        found.append(
            f"规则4{RULES[4]}：单价{offer.price_per_lesson}元高于预算{need.budget_per_lesson}元"
        )
    return found


def compatible(need: FairNeed, offer: FairOffer) -> bool:
    return not problems(need, offer)


def _money(value, field: str, label: str, errors: dict) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors.setdefault(field, []).append(f"{label}应为金额。")
        return None
    if not amount.is_finite() or amount <= 0:
        errors.setdefault(field, []).append(f"{label}应大于0元。")
        return None
    if amount.as_tuple().exponent < -2 or amount >= Decimal("1000000"):
        errors.setdefault(field, []).append(f"{label}最多两位小数，且小于100万元。")
        return None
    return amount


def _common(kind, grades, weekdays, places, errors: dict):
    if kind not in FairKind.values:
        errors.setdefault("kind", []).append("请选择课程类别。")
    grades = sorted({int(g) for g in grades or []})
    if not grades:
        errors.setdefault("grades", []).append("请至少选择一个年级。")
    elif grades[0] < 1 or grades[-1] > 9:
        errors.setdefault("grades", []).append("年级应为一至九年级。")
    weekdays = sorted({int(d) for d in weekdays or []})
    if not weekdays:
        errors.setdefault("weekdays", []).append("请至少选择一个服务日。")
    elif weekdays[0] < 0 or weekdays[-1] > 6:
        errors.setdefault("weekdays", []).append("服务日应为周一至周日。")
    if places is None or int(places) < 1 or int(places) > 32767:
        errors.setdefault("places", []).append("人数应为1至32767之间的整数。")
    return grades, weekdays


def _locked_fair(fair_id: int) -> Fair:
    return locked(Fair.objects.filter(pk=fair_id).select_related("term")).get()


def _after_fair_locked() -> None:
    """A seam for the concurrency tests (a posting holding the fair's lock a while)."""


def _open_fair(fair_id: int) -> Fair:
    """The fair, locked, and open: every posting and ranking holds the fair's row until it
    commits, so the matching (which locks it first) sees all of them or none is accepted
    after it."""
    fair = _locked_fair(fair_id)
    _after_fair_locked()
    if fair.status != Status.OPEN:
        raise ValidationError(f"“{fair.name}”{fair.get_status_display()}，不能再发布或修改志愿。")
    return fair


# --- the bureau ----------------------------------------------------------------------------


def fair_open(*, actor, term_id: int, name: str) -> Fair:
    """A fair for a term of a district: one per term, for a term not yet ended."""
    require(may_run(actor) and actor.has_perm("supply.add_fair"))
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors.setdefault("name", []).append("请填写名称。")
    elif len(name) > 100:
        errors.setdefault("name", []).append("名称最多100字。")
    term = SchoolPeriod.objects.filter(pk=term_id).first()
    if term is None or term.kind != SchoolPeriod.Kind.TERM:
        errors.setdefault("term", []).append("请选择学期（双向选择会按学期举办）。")
    elif term.end < timezone.localdate():
        errors.setdefault("term", []).append(f"“{term.name}”已于{term.end}结束，不能再举办。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked(SchoolPeriod.objects.filter(pk=term.pk)).get()
        if Fair.objects.filter(term=term).exists():
            raise ValidationError({"term": f"“{term.name}”已有双向选择会（每学期一次）。"})
        fair = Fair.objects.create(term=term, name=name)
        audit_record(
            actor=actor, action="supply.fair.opened", obj=fair, new={"term": term, "name": name}
        )
    return fair


def fair_close(*, actor, fair_id: int) -> Fair:
    """Freeze the postings and choices (closing a closed or matched fair changes nothing)."""
    require(may_run(actor) and actor.has_perm("supply.change_fair"))
    with transaction.atomic():
        fair = _locked_fair(fair_id)
        if fair.status != Status.OPEN:
            return fair
        fair.status = Status.CLOSED
        fair.closed_at = timezone.now()
        fair.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor, action="supply.fair.closed", obj=fair,
            old={"status": Status.OPEN}, new={"status": Status.CLOSED},
        )  # fmt: skip
    return fair


# --- schools -------------------------------------------------------------------------------


def need_post(
    *, actor, fair_id: int, kind: str, grades, weekdays, places, budget_per_lesson, note=""
) -> FairNeed:
    """A school's need, posted by its principal or 教导处 to a fair of its district."""
    require(may_need(actor))
    school = actor.school_staff.school
    errors: dict[str, list[str]] = {}
    grades, weekdays = _common(kind, grades, weekdays, places, errors)
    budget = _money(budget_per_lesson, "budget_per_lesson", "课时预算", errors)
    note = (note or "").strip()
    if len(note) > 300:
        errors.setdefault("note", []).append("说明最多300字。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        fair = _open_fair(fair_id)
        if fair.term.district_id != school.district_id:
            raise ValidationError("该双向选择会不属于本校所在区。")
        need = FairNeed.objects.create(
            fair=fair, school=school, kind=kind, grades=grades, weekdays=weekdays,
            places=int(places), budget_per_lesson=budget, note=note, created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="supply.fair_need.posted", obj=need,
            new={"fair": fair, "school": school, "kind": kind, "grades": grades,
                 "weekdays": weekdays, "places": int(places), "budget_per_lesson": budget},
        )  # fmt: skip
    return need


# --- providers -----------------------------------------------------------------------------


def offer_post(
    *,
    actor,
    fair_id: int,
    title: str,
    kind: str,
    grades,
    weekdays,
    places,
    capacity,
    price_per_lesson,
    outside_price,
    note="",
) -> FairOffer:
    """An admitted provider's offer: its price per lesson below its price outside school."""
    provider = provider_of(actor)
    require(provider is not None)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors.setdefault("title", []).append("请填写课程名称。")
    elif len(title) > 100:
        errors.setdefault("title", []).append("课程名称最多100字。")
    grades, weekdays = _common(kind, grades, weekdays, places, errors)
    cap_max = settings.PORTAL_FAIR_MAX_OFFER_CAPACITY
    if capacity is None or not 1 <= int(capacity) <= cap_max:
        errors.setdefault("capacity", []).append(
            f"可服务学校数应为1至{cap_max}所（每项供给最多服务{cap_max}所学校）。"
        )
    price = _money(price_per_lesson, "price_per_lesson", "课时单价", errors)
    outside = _money(outside_price, "outside_price", "校外同类课时价", errors)
    if price is not None and outside is not None and price >= outside:
        # 点餐制, as every contract of the whitelist (afterschool.providers.contract_add)
        errors.setdefault("price_per_lesson", []).append(
            f"课时单价{price}元须低于本机构校外同类课时价{outside}元。"
        )
    note = (note or "").strip()
    if len(note) > 300:
        errors.setdefault("note", []).append("说明最多300字。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        fair = _open_fair(fair_id)
        offer = FairOffer.objects.create(
            fair=fair, organisation=actor.organisation_member.organisation, provider=provider,
            title=title, kind=kind, grades=grades, weekdays=weekdays, places=int(places),
            capacity=int(capacity), price_per_lesson=price, outside_price=outside, note=note,
            created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="supply.fair_offer.posted", obj=offer,
            new={"fair": fair, "provider": provider, "title": title, "kind": kind,
                 "grades": grades, "weekdays": weekdays, "places": int(places),
                 "capacity": int(capacity), "price_per_lesson": price, "outside_price": outside},
        )  # fmt: skip
    return offer


def _close_gaps(side, **fixed) -> None:
    """Ranks 1..n again after a withdrawn posting left a gap in the other side's rankings
    (ascending, one row at a time: each moves into a rank already freed)."""
    rows = FairChoice.objects.filter(side=side, **fixed).order_by("rank")
    for i, choice in enumerate(rows, 1):
        if choice.rank != i:
            FairChoice.objects.filter(pk=choice.pk).update(rank=i)


def need_withdraw(*, actor, need_id: int) -> None:
    """A school withdraws one of its needs while the fair is open (撤回): the need and every
    choice of it go; the providers' rankings close up. Audited with what was withdrawn."""
    require(may_need(actor))
    with transaction.atomic():
        need = locked(FairNeed.objects.filter(pk=need_id).select_related("school")).get()
        require(is_school_manager(actor, need.school_id))
        _open_fair(need.fair_id)
        offers = sorted(
            set(need.choices.filter(side=Side.PROVIDER).values_list("offer", flat=True))
        )
        old = {"fair": need.fair_id, "school": need.school_id, "kind": need.kind,
               "grades": need.grades, "weekdays": need.weekdays, "places": need.places,
               "budget_per_lesson": need.budget_per_lesson}  # fmt: skip
        audit_record(actor=actor, action="supply.fair_need.withdrawn", obj=need, old=old)
        need.delete()
        for offer_id in offers:
            _close_gaps(Side.PROVIDER, offer_id=offer_id)


def offer_withdraw(*, actor, offer_id: int) -> None:
    """A provider withdraws one of its offers while the fair is open; as ``need_withdraw``."""
    require(may_offer(actor))
    with transaction.atomic():
        offer = locked(FairOffer.objects.filter(pk=offer_id)).get()
        require(is_organisation_member(actor, offer.organisation_id))
        _open_fair(offer.fair_id)
        needs = sorted(set(offer.choices.filter(side=Side.SCHOOL).values_list("need", flat=True)))
        old = {"fair": offer.fair_id, "provider": offer.provider_id, "title": offer.title,
               "kind": offer.kind, "grades": offer.grades, "weekdays": offer.weekdays,
               "capacity": offer.capacity, "price_per_lesson": offer.price_per_lesson}  # fmt: skip
        audit_record(actor=actor, action="supply.fair_offer.withdrawn", obj=offer, old=old)
        offer.delete()
        for need_id in needs:
            _close_gaps(Side.SCHOOL, need_id=need_id)


# --- ranked choices ------------------------------------------------------------------------


def _ranking(ids, field: str, label: str) -> list[int]:
    ids = [int(i) for i in ids]
    limit = settings.PORTAL_FAIR_MAX_CHOICES
    if len(set(ids)) != len(ids):
        raise ValidationError({field: f"同一{label}不能重复填报志愿。"})
    if len(ids) > limit:
        raise ValidationError({field: f"最多填报{limit}个志愿（已选{len(ids)}个）。"})
    return ids


def _replace(*, side, fixed: dict, others: list[int]):
    """One side's ranking of a need's (or an offer's) candidates: the list's order."""
    FairChoice.objects.filter(side=side, **fixed).delete()
    key = "offer_id" if "need" in fixed else "need_id"
    FairChoice.objects.bulk_create(
        [FairChoice(side=side, rank=i, **fixed, **{key: o}) for i, o in enumerate(others, 1)]
    )


def need_rank(*, actor, need_id: int, offer_ids) -> list[int]:
    """A school's ranking of offers for one of its needs (first = 第一志愿); replaces its
    previous ranking of that need. Every offer must be of the same fair and compatible."""
    require(may_need(actor))
    ids = _ranking(offer_ids, "offers", "供给")
    with transaction.atomic():
        need = locked(FairNeed.objects.filter(pk=need_id).select_related("school")).get()
        require(is_school_manager(actor, need.school_id))
        fair = _open_fair(need.fair_id)
        offers = FairOffer.objects.filter(fair=fair).in_bulk(ids)
        errors = []
        for pk in ids:
            offer = offers.get(pk)
            if offer is None:
                errors.append(f"供给{pk}不在“{fair.name}”中。")
                continue
            found = problems(need, offer)
            if found:
                errors.append(f"“{offer}”与该需求不相容：{'；'.join(found)}。")
        if errors:
            raise ValidationError({"offers": errors})
        old = list(
            need.choices.filter(side=Side.SCHOOL).order_by("rank").values_list("offer", flat=True)
        )
        if old != ids:
            _replace(side=Side.SCHOOL, fixed={"need": need}, others=ids)
            audit_record(
                actor=actor, action="supply.fair_need.ranked", obj=need,
                old={"offers": old}, new={"offers": ids},
            )  # fmt: skip
    return ids


def offer_rank(*, actor, offer_id: int, need_ids) -> list[int]:
    """A provider's ranking of needs for one of its offers; as ``need_rank``."""
    require(may_offer(actor))
    ids = _ranking(need_ids, "needs", "需求")
    with transaction.atomic():
        offer = locked(FairOffer.objects.filter(pk=offer_id)).get()
        require(is_organisation_member(actor, offer.organisation_id))
        fair = _open_fair(offer.fair_id)
        needs = FairNeed.objects.filter(fair=fair).select_related("school").in_bulk(ids)
        errors = []
        for pk in ids:
            need = needs.get(pk)
            if need is None:
                errors.append(f"需求{pk}不在“{fair.name}”中。")
                continue
            found = problems(need, offer)
            if found:
                errors.append(f"“{need}”与该供给不相容：{'；'.join(found)}。")
        if errors:
            raise ValidationError({"needs": errors})
        old = list(
            offer.choices.filter(side=Side.PROVIDER).order_by("rank").values_list("need", flat=True)
        )
        if old != ids:
            _replace(side=Side.PROVIDER, fixed={"offer": offer}, others=ids)
            audit_record(
                actor=actor, action="supply.fair_offer.ranked", obj=offer,
                old={"needs": old}, new={"needs": ids},
            )  # fmt: skip
    return ids


# --- the matching --------------------------------------------------------------------------


def match(
    needs: list[int],
    school_prefs: dict[int, list[int]],
    provider_prefs: dict[int, list[int]],
    capacity: dict[int, int],
) -> dict[int, tuple[int, str]]:
    """need -> (offer, how) by the module's rule: mutual first choices, then needs-proposing
    deferred acceptance. ``school_prefs[need]`` and ``provider_prefs[offer]`` are lists in
    rank order (first choice first); ``capacity[offer]`` how many needs it may take."""
    prank = {o: {n: i for i, n in enumerate(ns)} for o, ns in provider_prefs.items()}
    acceptable = {
        n: [o for o in school_prefs.get(n, []) if n in prank.get(o, {}) and capacity.get(o, 0) > 0]
        for n in sorted(needs)
    }
    left = {o: c for o, c in capacity.items()}
    result: dict[int, tuple[int, str]] = {}
    # step 1: mutual first choices (each as marked: the first of each side's whole list)
    for n in sorted(needs):
        firsts = school_prefs.get(n) or []
        if not firsts:
            continue
        o = firsts[0]
        if (provider_prefs.get(o) or [None])[0] == n and left.get(o, 0) > 0:
            result[n] = (o, FairMatch.How.MUTUAL_FIRST)
            left[o] -= 1
    # step 2: deferred acceptance for the rest, on what capacity is left
    held: dict[int, list[int]] = {o: [] for o in left}
    following = {n: 0 for n in acceptable}
    free = deque(n for n in sorted(needs) if n not in result)
    while free:
        n = free.popleft()
        prefs = acceptable[n]
        while following[n] < len(prefs):
            o = prefs[following[n]]
            following[n] += 1
            if left[o] <= 0:
                continue
            held[o].append(n)
            held[o].sort(key=prank[o].__getitem__)
            if len(held[o]) <= left[o]:
                break
            out = held[o].pop()  # the offer's least preferred of what it holds
            if out != n:
                free.append(out)
                break
    for o, ns in held.items():
        for n in ns:
            result[n] = (o, FairMatch.How.DEFERRED)
    return dict(sorted(result.items()))


def fair_match(*, actor, fair_id: int) -> list[FairMatch]:
    """The bureau's one run of the matching (closing an open fair); again: nothing written."""
    from afterschool.providers import contract_add

    require(may_run(actor) and actor.has_perm("supply.change_fair"))
    with transaction.atomic():
        fair = _locked_fair(fair_id)
        if fair.status == Status.MATCHED:
            return list(fair.matches.all())
        needs = list(fair.needs.select_related("school").order_by("pk"))
        offers = {
            o.pk: o for o in fair.offers.select_related("provider", "organisation").order_by("pk")
        }
        school_prefs: dict[int, list[int]] = {n.pk: [] for n in needs}
        provider_prefs: dict[int, list[int]] = {o: [] for o in offers}
        for c in FairChoice.objects.filter(need__fair=fair).order_by("side", "rank", "pk"):
            if c.side == Side.SCHOOL:
                school_prefs[c.need_id].append(c.offer_id)
            else:
                provider_prefs[c.offer_id].append(c.need_id)
        capacity = {
            pk: (o.capacity if o.provider.status == Provider.Status.ADMITTED else 0)
            for pk, o in offers.items()
        }
        result = match([n.pk for n in needs], school_prefs, provider_prefs, capacity)
        by_pk = {n.pk: n for n in needs}
        made = []
        for need_pk, (offer_pk, how) in result.items():
            need, offer = by_pk[need_pk], offers[offer_pk]
            contract = contract_add(
                actor=actor,
                provider_id=offer.provider_id,
                items=f"{fair.name}：{need.school.name}{need.get_kind_display()}"
                f"（{offer.title}，{need.grades_text}，{need.places}人）"[:300],
                price_per_lesson=offer.price_per_lesson,
                outside_price=offer.outside_price,
                start=fair.term.start,
                end=fair.term.end,
            )
            made.append(
                FairMatch.objects.create(
                    fair=fair,
                    need=need,
                    offer=offer,
                    how=how,
                    contract=contract,
                    school_rank=school_prefs[need_pk].index(offer_pk) + 1,
                    provider_rank=provider_prefs[offer_pk].index(need_pk) + 1,
                )  # fmt: skip
            )
        old_status = fair.status
        fair.status = Status.MATCHED
        fair.matched_at = timezone.now()
        fair.matched_by = actor
        if fair.closed_at is None:
            fair.closed_at = fair.matched_at
        fair.save(update_fields=["status", "matched_at", "matched_by", "closed_at"])
        audit_record(
            actor=actor, action="supply.fair.matched", obj=fair,
            old={"status": old_status},
            new={"status": Status.MATCHED,
                 "matches": [[m.need_id, m.offer_id, m.how, m.contract_id] for m in made],
                 "unmatched": [n.pk for n in needs if n.pk not in result]},
        )  # fmt: skip
        _tell(fair, needs, offers.values())
    return made


def _tell(fair: Fair, needs, offers) -> None:
    """Schools' managers and providers' members hear that the result is out."""
    from portal.models import SchoolStaff
    from supply.account_models import OrganisationMember

    managers = SchoolStaff.objects.filter(
        school_id__in={n.school_id for n in needs}, role__in=SchoolStaff.MANAGER_ROLES
    ).values_list("user_id", flat=True)
    members = OrganisationMember.objects.filter(
        organisation_id__in={o.organisation_id for o in offers}, active=True
    ).values_list("user_id", flat=True)
    notify(
        [*managers, *members],
        key=f"supply.fair.matched:{fair.pk}",
        message=f"“{fair.name}”匹配结果已公布，请查看本单位的匹配结果。",
        url=f"/fair/{fair.pk}/",
    )
