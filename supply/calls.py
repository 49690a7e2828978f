"""The public call for after-school providers (公开征集, issue 19 part 1): every write and
the scoring rules.

- ``call_open`` (bureau, 课后服务): title, kinds of service, deadline, criteria whose weights
  sum to 100 (rule 1), admit N, the tie rule (a criterion whose higher mean wins, then the
  earlier submission), the service period of the contracts admission signs.
- ``application_submit`` (an organisation's member, while the call is open: after its
  deadline refused naming it; one application per organisation and call) with documents
  checked and stored as findings' evidence (portal.evidence).
- ``expert_assign`` (bureau): experts onto the call's panel.
- ``conflict_declare`` (an assigned expert): a conflict of interest with one applicant; that
  expert's scores for it are excluded from the ranking, and no new ones are taken.
- ``score_save`` (an assigned expert without a conflict): one score per criterion,
  0 ≤ score ≤ weight (refused outside, naming the criterion and the range), until the result
  is published.
- ``ranking`` (pure): per application and criterion the mean of the counted scores; with
  ``PORTAL_CALL_TRIM_MIN_EXPERTS`` (5) or more scores the highest and the lowest are dropped
  first (one each); the total is the sum of the means; equal totals are ordered by the
  recorded tie rule.
- ``call_admit`` (bureau): with every score in, the top N are admitted onto the provider
  whitelist through afterschool.providers' services (apply, qualification review, contract
  at the offered price, admit; Organisation.provider set), the others not admitted, and the
  result (ranks, totals, means per criterion, no expert names) is published.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from afterschool import providers
from afterschool.models import Provider
from portal import evidence
from portal.audit import audit_record
from portal.locks import locked
from portal.notices import notify
from portal.permissions import is_bureau, is_expert, is_organisation_member, require
from supply.account_models import Organisation
from supply.call_models import (
    Call,
    CallApplication,
    CallConflict,
    CallCriterion,
    CallDocument,
    CallExpert,
    CallScore,
)

LINE = "supply"
WEIGHT_TOTAL = 100  # rule 1: the criteria's weights sum to 100 points
AS = CallApplication.Status


def _bureau(actor, perm: str = "supply.change_call") -> None:
    require(is_bureau(actor, line=LINE, perm=perm))


def _fmt(value) -> str:
    """A score for a message: 12, 12.5."""
    value = Decimal(value).normalize()
    return f"{value:f}"


def _deadline_text(call: Call) -> str:
    return f"{timezone.localtime(call.deadline):%Y-%m-%d %H:%M}"


# --- the call ------------------------------------------------------------------------------


def parse_criteria(text: str) -> list[tuple[str, int]]:
    """``资质 20`` per line (or ``资质:20``) into [(name, weight)]; a ValidationError on the
    "criteria" field naming the bad line."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip().replace("：", " ").replace(":", " ")
        if not line:
            continue
        name, _sep, weight = line.rpartition(" ")
        name = name.strip()
        try:
            value = int(weight)
        except ValueError:
            value = None
        if not name or value is None:
            raise ValidationError(
                {"criteria": f"评分项第{number}行“{line}”应写作“名称 分值”，如“资质 20”。"}
            )
        rows.append((name, value))
    return rows


def call_open(
    *,
    actor,
    title: str,
    service_kinds: str,
    deadline: dt.datetime,
    criteria: list[tuple[str, int]],
    admit_count: int,
    service_start: dt.date,
    service_end: dt.date,
    tie_criterion: str = "",
    description: str = "",
    now: dt.datetime | None = None,
) -> Call:
    _bureau(actor, "supply.add_call")
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}

    def err(field_name, message):
        errors.setdefault(field_name, []).append(message)

    title = (title or "").strip()
    if not title:
        err("title", "请填写征集标题。")
    elif len(title) > 200:
        err("title", "征集标题最多 200 个字。")
    service_kinds = (service_kinds or "").strip()
    if not service_kinds:
        err("service_kinds", "请填写征集的服务类别（如 体育、艺术、科技）。")
    elif len(service_kinds) > 200:
        err("service_kinds", "服务类别最多 200 个字。")
    if deadline is None or deadline <= now:
        err("deadline", "截止时间应晚于现在。")
    if not admit_count or admit_count < 1:
        err("admit_count", "拟准入数量至少为 1 家。")
    if service_start and service_end and service_end < service_start:
        err("service_end", "服务期结束日期不能早于开始日期。")
    names = set()
    for name, weight in criteria:
        if len(name) > 50:
            err("criteria", f"评分项“{name[:20]}…”名称最多 50 个字。")
        if name in names:
            err("criteria", f"评分项“{name}”重复。")
        names.add(name)
        if weight <= 0:
            err("criteria", f"评分项“{name}”的分值应大于 0。")
    if not criteria:
        err("criteria", "请至少填写一个评分项。")
    else:
        total = sum(w for _n, w in criteria)
        if total != WEIGHT_TOTAL:
            err("criteria", f"各评分项分值之和应为 {WEIGHT_TOTAL} 分，现为 {total} 分。")
    tie_criterion = (tie_criterion or "").strip()
    if tie_criterion and tie_criterion not in names:
        err("tie_criterion", f"同分优先评分项“{tie_criterion}”不是本次征集的评分项。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        call = Call.objects.create(
            title=title, service_kinds=service_kinds, description=(description or "").strip(),
            deadline=deadline, admit_count=admit_count, tie_criterion=tie_criterion,
            service_start=service_start, service_end=service_end, created_by=actor,
        )  # fmt: skip
        CallCriterion.objects.bulk_create(
            CallCriterion(call=call, name=n, weight=w, position=i)
            for i, (n, w) in enumerate(criteria)
        )
        audit_record(
            actor=actor,
            action="supply.call.opened",
            obj=call,
            new={"title": title, "deadline": deadline, "admit_count": admit_count,
                 "criteria": [[n, w] for n, w in criteria], "tie_criterion": tie_criterion,
                 "service_start": service_start, "service_end": service_end},
        )  # fmt: skip
    return call


# --- applications --------------------------------------------------------------------------


def _price(value, field_name: str, label: str, errors: dict) -> Decimal | None:
    try:
        price = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        errors.setdefault(field_name, []).append(f"请填写{label}（元）。")
        return None
    if price <= 0:
        errors.setdefault(field_name, []).append(f"{label}应大于 0 元。")
        return None
    if price >= Decimal("1000000"):
        errors.setdefault(field_name, []).append(f"{label}过大。")
        return None
    return price


def application_submit(
    *,
    actor,
    call_id: int,
    service_items: str,
    price_per_lesson,
    outside_price,
    plan: str = "",
    files=(),
    now: dt.datetime | None = None,
) -> CallApplication:
    """An organisation applies to an open call with its documents (at least one)."""
    require(is_organisation_member(actor))
    member = actor.organisation_member
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    service_items = (service_items or "").strip()
    if not service_items:
        errors["service_items"] = ["请填写拟提供的服务项目。"]
    elif len(service_items) > 2000:
        errors["service_items"] = ["服务项目最多 2000 个字。"]
    plan = (plan or "").strip()
    if len(plan) > 5000:
        errors["plan"] = ["课程方案概述最多 5000 个字。"]
    price = _price(price_per_lesson, "price_per_lesson", "报价", errors)
    outside = _price(outside_price, "outside_price", "校外同类课时价", errors)
    if price is not None and outside is not None and price >= outside:
        # 点餐制: the whitelist price must be below the price outside school (the rule
        # afterschool.providers.contract_add applies at admission)
        errors.setdefault("price_per_lesson", []).append(
            f"报价{price}元须低于本机构校外同类课时价{outside}元。"
        )
    files = list(files or [])
    if not files:
        errors.setdefault("files", []).append(
            "请上传申报材料（营业执照、资质证明、课程方案等，PDF/JPG/PNG）。"
        )
    if errors:
        raise ValidationError(errors)
    checked = evidence.check_files(files, what="申报")
    with transaction.atomic():
        # the call's row: its deadline and status are read under the lock that admission takes
        call = locked(Call.objects.filter(pk=call_id)).get()
        if call.status != Call.Status.OPEN or now > call.deadline:
            raise ValidationError({None: f"本次征集已于{_deadline_text(call)}截止，不再接受申报。"})
        organisation = Organisation.objects.get(pk=member.organisation_id)
        if not organisation.active:
            raise ValidationError({None: "本组织账号已被停用，不能申报。"})
        if CallApplication.objects.filter(call=call, organisation=organisation).exists():
            raise ValidationError({None: "本组织已申报本次征集，每个组织只能申报一次。"})
        with evidence.storing() as write:
            try:
                with transaction.atomic():
                    application = CallApplication.objects.create(
                        call=call, organisation=organisation, submitted_by=actor,
                        submitted_at=now, service_items=service_items, plan=plan,
                        price_per_lesson=price, outside_price=outside,
                    )  # fmt: skip
            except IntegrityError:
                raise ValidationError(
                    {None: "本组织已申报本次征集，每个组织只能申报一次。"}
                ) from None
            for item in checked:
                CallDocument.objects.create(
                    application=application, name=item.name, kind=item.kind,
                    size=item.size, sha256=item.sha256, path=write(item),
                )  # fmt: skip
            audit_record(
                actor=actor,
                action="supply.application.submitted",
                obj=application,
                new={"call": call.pk, "organisation": organisation.pk,
                     "price_per_lesson": price, "outside_price": outside,
                     "documents": [c.sha256 for c in checked]},
            )  # fmt: skip
    return application


# --- the panel -----------------------------------------------------------------------------


def expert_assign(*, actor, call_id: int, expert_id: int) -> CallExpert:
    """An expert of the pool onto the call's panel (before the result is published)."""
    _bureau(actor)
    from supply.account_models import Expert

    with transaction.atomic():
        call = locked(Call.objects.filter(pk=call_id)).get()
        if call.status != Call.Status.OPEN:
            raise ValidationError({"expert": "结果已公布，不能再指派专家。"})
        expert = Expert.objects.filter(pk=expert_id, active=True).first()
        if expert is None:
            raise ValidationError({"expert": "该专家不在专家库中或已停用。"})
        row, created = CallExpert.objects.get_or_create(call=call, expert=expert)
        if created:
            audit_record(
                actor=actor,
                action="supply.call.expert_assigned",
                obj=call,
                new={"expert": expert.pk},
            )
            notify(
                [expert.user_id],
                key=f"calls:assigned:{call.pk}:{expert.pk}",
                message=f"您已被指派评审“{call.title}”的申报，请登录评分。",
                url="/calls/expert/",
            )
    return row


def _panel_member(actor, application: CallApplication):
    """The actor's Expert row when assigned to the application's call; else 403."""
    require(is_expert(actor))
    expert = actor.expert
    require(CallExpert.objects.filter(call_id=application.call_id, expert=expert).exists())
    return expert


def conflict_declare(*, actor, application_id: int, reason: str) -> CallConflict:
    """The expert declares a conflict of interest with this applicant: their scores for it
    (given or to come) are excluded."""
    reason = (reason or "").strip()
    application = CallApplication.objects.select_related("call").get(pk=application_id)
    expert = _panel_member(actor, application)
    if not reason:
        raise ValidationError({"reason": "请填写回避事由（如 曾在该机构任职、亲属关系）。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "回避事由最多 200 个字。"})
    with transaction.atomic():
        call = locked(Call.objects.filter(pk=application.call_id)).get()
        if call.status != Call.Status.OPEN:
            raise ValidationError({"reason": "结果已公布，不能再申报回避。"})
        row, created = CallConflict.objects.get_or_create(
            application=application, expert=expert, defaults={"reason": reason}
        )
        if created:
            audit_record(
                actor=actor,
                action="supply.conflict.declared",
                obj=application,
                new={"expert": expert.pk, "reason": reason},
            )
    return row


def score_save(*, actor, application_id: int, values: dict, lock: bool = True) -> list[CallScore]:
    """The expert's scores of one application: ``values`` {criterion id: score}, every
    criterion, each 0..weight (one decimal place). ``lock=False`` only for the control test
    (tests/supply/test_calls_concurrency.py)."""
    application = CallApplication.objects.select_related("call", "organisation").get(
        pk=application_id
    )
    expert = _panel_member(actor, application)
    criteria = list(application.call.criteria.all())
    errors: dict[str, list[str]] = {}
    parsed = {}
    for c in criteria:
        key = f"c{c.pk}"
        raw = values.get(c.pk, values.get(key))
        if raw is None or str(raw).strip() == "":
            errors[key] = [f"请为“{c.name}”评分（0–{c.weight}分）。"]
            continue
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            errors[key] = [f"“{c.name}”的得分应为数字（0–{c.weight}分）。"]
            continue
        if value < 0 or value > c.weight:
            errors[key] = [
                f"“{c.name}”的得分应在 0–{c.weight} 分之间（该项满分{c.weight}分），"
                f"不能为{_fmt(value)}分。"
            ]
            continue
        if value != value.quantize(Decimal("0.1")):
            errors[key] = [f"“{c.name}”的得分最多保留一位小数。"]
            continue
        parsed[c] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # the call's row, as admission locks it: a score is never written between the
        # ranking admission reads and the result it publishes
        rows = Call.objects.filter(pk=application.call_id)
        call = (locked(rows) if lock else rows).get()
        if call.status != Call.Status.OPEN:
            raise ValidationError({None: "结果已公布，评分不能再修改。"})
        if call.deadline > timezone.now():
            raise ValidationError({None: f"申报截止（{_deadline_text(call)}）后才能评分。"})
        if CallConflict.objects.filter(application=application, expert=expert).exists():
            raise ValidationError({None: "您已申报与该申报单位存在利益冲突，须回避，不能评分。"})
        old = {
            s.criterion_id: s.value
            for s in CallScore.objects.filter(application=application, expert=expert)
        }
        rows = []
        for c, value in parsed.items():
            row, _created = CallScore.objects.update_or_create(
                application=application, expert=expert, criterion=c,
                defaults={"value": value},
            )  # fmt: skip
            rows.append(row)
        audit_record(
            actor=actor,
            action="supply.score.saved",
            obj=application,
            old={str(k): v for k, v in old.items()} or None,
            new={"expert": expert.pk, **{str(c.pk): v for c, v in parsed.items()}},
        )
    return rows


# --- the ranking (pure) --------------------------------------------------------------------


@dataclass
class Ranked:
    application: CallApplication
    means: dict[str, Fraction] = field(default_factory=dict)  # criterion name -> mean
    counted: dict[str, int] = field(default_factory=dict)  # scores counted per criterion
    total: Fraction = Fraction(0)
    rank: int = 0
    missing: int = 0  # scores still missing from the panel

    @property
    def total_display(self) -> Decimal:
        return to_decimal(self.total)

    def mean_display(self, name: str) -> Decimal:
        return to_decimal(self.means.get(name, Fraction(0)))

    @property
    def means_display(self) -> list[Decimal]:
        """The means in criteria order, to two decimal places."""
        return [to_decimal(v) for v in self.means.values()]


def to_decimal(value: Fraction) -> Decimal:
    """A mean to two decimal places (half up), for display and the published result."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def criterion_mean(values: list[Decimal], trim_min: int | None = None) -> Fraction:
    """The mean of one criterion's counted scores; with ``trim_min`` (the setting) or more,
    the highest and the lowest (one each) are dropped first. Exact (Fraction): ties are
    decided on the true values, not on rounded ones."""
    trim_min = settings.PORTAL_CALL_TRIM_MIN_EXPERTS if trim_min is None else trim_min
    values = sorted(Fraction(v) for v in values)
    if not values:
        return Fraction(0)
    if len(values) >= trim_min:
        values = values[1:-1]
    return sum(values, Fraction(0)) / len(values)


def ranking(call: Call) -> list[Ranked]:
    """Every application of ``call`` ranked (three queries). Scores of an expert who declared
    a conflict with the applicant are excluded; scores of experts no longer on the panel
    are not counted."""
    criteria = list(call.criteria.all())
    applications = list(CallApplication.objects.filter(call=call).select_related("organisation"))
    # an expert removed from the pool (deactivated) leaves the panel: their scores are not
    # counted and none are waited for, so admission is never blocked by someone gone
    panel = set(
        CallExpert.objects.filter(call=call, expert__active=True).values_list(
            "expert_id", flat=True
        )
    )
    conflicts = set(
        CallConflict.objects.filter(application__call=call).values_list(
            "application_id", "expert_id"
        )
    )
    by_app: dict[int, dict[int, list[Decimal]]] = {}
    scored: dict[tuple[int, int], int] = {}
    for app_id, expert_id, crit_id, value in CallScore.objects.filter(
        application__call=call
    ).values_list("application_id", "expert_id", "criterion_id", "value"):
        if expert_id not in panel or (app_id, expert_id) in conflicts:
            continue
        by_app.setdefault(app_id, {}).setdefault(crit_id, []).append(value)
        scored[app_id, expert_id] = scored.get((app_id, expert_id), 0) + 1
    rows = []
    for a in applications:
        r = Ranked(a)
        for c in criteria:
            values = by_app.get(a.pk, {}).get(c.pk, [])
            r.means[c.name] = criterion_mean(values)
            r.counted[c.name] = len(values)
        r.total = sum(r.means.values(), Fraction(0))
        expected = [e for e in panel if (a.pk, e) not in conflicts]
        r.missing = sum(len(criteria) - scored.get((a.pk, e), 0) for e in expected)
        rows.append(r)
    tie = call.tie_criterion
    rows.sort(
        key=lambda r: (
            -r.total,
            -(r.means.get(tie, Fraction(0)) if tie else 0),
            r.application.submitted_at,
            r.application.pk,
        )
    )
    for i, r in enumerate(rows, 1):
        r.rank = i
    return rows


def missing_scores(call: Call) -> int:
    return sum(r.missing for r in ranking(call))


# --- admission and the published result ----------------------------------------------------


def _no_pause(point: str):
    pass


# Tests put a pause here ("ranked": after admission read the ranking, before it publishes):
# the control test shows a score written in that gap without the call's row lock
# (tests/supply/test_calls_concurrency.py), the real one that the lock makes it wait.
_pause = _no_pause


def call_admit(
    *, actor, call_id: int, vetting_note: str, today: dt.date | None = None
) -> list[CallApplication]:
    """Admit the top N and publish the result. Refused before the deadline, while scores are
    missing, or when an application has fewer than ``PORTAL_CALL_MIN_EXPERTS`` counted
    experts. The admitted go onto the provider whitelist through afterschool.providers (the
    bureau actor needs 课后服务's provider permissions too)."""
    _bureau(actor)
    require(is_bureau(actor, line="afterschool", perm="afterschool.change_provider"))
    today = today or timezone.localdate()
    note = (vetting_note or "").strip()
    if not note:
        raise ValidationError(
            {"vetting_note": "请填写人员审查记录（如无犯罪记录查询情况、审查人、日期），"
             "准入时记入机构名单。"}
        )  # fmt: skip
    with transaction.atomic():
        call = locked(Call.objects.filter(pk=call_id)).get()
        if call.status == Call.Status.PUBLISHED:
            raise ValidationError({None: "本次征集的结果已公布。"})
        if timezone.now() <= call.deadline:
            raise ValidationError({None: f"申报截止（{_deadline_text(call)}）后才能确定准入名单。"})
        rows = ranking(call)
        _pause("ranked")
        if not rows:
            raise ValidationError({None: "本次征集没有申报，无法确定准入名单。"})
        missing = [r for r in rows if r.missing]
        if missing:
            names = "、".join(r.application.organisation.name for r in missing[:5])
            raise ValidationError(
                {None: f"评分未完成：{names}等{len(missing)}份申报尚缺"
                 f"{sum(r.missing for r in missing)}项专家评分。"}
            )  # fmt: skip
        minimum = settings.PORTAL_CALL_MIN_EXPERTS
        for r in rows:
            counted = min(r.counted.values(), default=0)
            if counted < minimum:
                raise ValidationError(
                    {None: f"“{r.application.organisation.name}”只有{counted}位专家的有效评分，"
                     f"每份申报至少需要{minimum}位（回避的专家不计）。"}
                )  # fmt: skip
        admitted = []
        for r in rows:
            a = r.application
            a.rank = r.rank
            a.total = to_decimal(r.total)
            a.criterion_means = {name: str(r.mean_display(name)) for name in r.means}
            a.status = AS.ADMITTED if r.rank <= call.admit_count else AS.NOT_ADMITTED
            a.save(update_fields=["rank", "total", "criterion_means", "status"])
            if a.status == AS.ADMITTED:
                _onto_whitelist(actor, call, a, note, today)
                admitted.append(a)
        call.status = Call.Status.PUBLISHED
        call.published_at = timezone.now()
        call.save(update_fields=["status", "published_at"])
        audit_record(
            actor=actor,
            action="supply.call.admitted",
            obj=call,
            old={"status": Call.Status.OPEN},
            new={"status": call.status,
                 "ranking": [[r.application.pk, r.rank, str(to_decimal(r.total))]
                             for r in rows],
                 "admitted": [a.pk for a in admitted]},
        )  # fmt: skip
        members = list(
            _members_of([r.application.organisation_id for r in rows]).values_list(
                "user_id", flat=True
            )
        )
        notify(
            members,
            key=f"calls:published:{call.pk}",
            message=f"“{call.title}”的评审结果已公布。",
            url=f"/calls/{call.pk}/result/",
        )
    return admitted


def _members_of(organisation_ids):
    from supply.account_models import OrganisationMember

    return OrganisationMember.objects.filter(organisation_id__in=organisation_ids, active=True)


def _onto_whitelist(actor, call: Call, a: CallApplication, note: str, today: dt.date):
    """The admitted application's organisation onto the provider whitelist, through
    afterschool.providers: its Provider (applied, or the one with its credit code), the
    qualification review, a contract at the offered price for the service period, admit."""
    organisation = locked(Organisation.objects.filter(pk=a.organisation_id)).get()
    provider = organisation.provider
    if provider is None:
        provider = Provider.objects.filter(credit_code=organisation.credit_code).first()
    if provider is None:
        provider = providers.provider_apply(
            actor=actor, name=organisation.name, credit_code=organisation.credit_code
        )
    if provider.status in (Provider.Status.REJECTED, Provider.Status.EXITED):
        raise ValidationError(
            {None: f"“{organisation.name}”在课后服务机构名单中为"
             f"“{provider.get_status_display()}”，不能经本次征集准入，请先在名单中处理。"}
        )  # fmt: skip
    if provider.status == Provider.Status.APPLIED:
        providers.provider_review_qualification(
            actor=actor, provider_id=provider.pk, licence_checked=True, staff_vetted=True,
            vetting_note=note, today=today,
        )  # fmt: skip
    providers.contract_add(
        actor=actor, provider_id=provider.pk, items=f"{call.title}：{a.service_items}"[:2000],
        price_per_lesson=a.price_per_lesson, outside_price=a.outside_price,
        start=call.service_start, end=call.service_end,
    )  # fmt: skip
    providers.provider_admit(actor=actor, provider_id=provider.pk, today=today)
    if organisation.provider_id != provider.pk:
        organisation.provider = provider
        organisation.save(update_fields=["provider"])
        audit_record(
            actor=actor,
            action="supply.organisation.provider_linked",
            obj=organisation,
            new={"provider": provider.pk, "call": call.pk},
        )
