"""The bureau's whitelist of after-school providers: application, qualification review,
admission with a contract, annual review, exit. Every write by bureau staff of 课后服务,
on a locked provider row, audited in the same transaction.

Where this meets the institution register (a provider that is also a training
institution) it asks ``institutions.colour`` for the list colour, never reads the
register's tables itself.
"""

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from afterschool.models import Lesson, Offering, Provider, ProviderContract, ProviderReview
from institutions import colour, uscc
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.permissions import is_bureau, require

Status = Provider.Status
TRANSITIONS = {
    Status.APPLIED: {Status.ADMITTED, Status.REJECTED},
    Status.ADMITTED: {Status.EXITED},
    Status.REJECTED: set(),
    Status.EXITED: set(),
}
# 年审: a provider is reviewed every year; 15 months leaves a season's grace for the
# review meeting (the district's practice, as for training institutions' 年检).
REVIEW_VALID_MONTHS = 15


def _require(actor, perm: str):
    """Bureau staff of 课后服务 holding ``perm``."""
    require(is_bureau(actor, line="afterschool", perm=perm))


def _locked(provider_id: int) -> Provider:
    return locked(Provider.objects.filter(pk=provider_id)).get()


def _check_move(provider: Provider, to: str):
    current = Status(provider.status)
    to = Status(to)
    if to not in TRANSITIONS[current]:
        raise ValidationError({"status": f"该机构当前为“{current.label}”，不能变为“{to.label}”。"})


def _institution_problem(provider: Provider, today: dt.date) -> str | None:
    """A provider that is a training institution must be white on the institutions list."""
    if provider.institution_id is None:
        return None
    v = colour.verdict(provider.institution, today=today)
    if v.colour == colour.WHITE:
        return None
    return (
        f"对应培训机构“{provider.institution.name}”目前在{v.label}"
        f"（{'；'.join(v.reasons)}），不能进入课后服务机构名单。"
    )


def provider_apply(*, actor, name: str, credit_code: str, institution=None) -> Provider:
    _require(actor, "afterschool.add_provider")
    name = (name or "").strip()
    code = (credit_code or "").strip().upper()
    errors = {}
    if not name:
        errors["name"] = "请填写机构名称。"
    problem = uscc.problem(code)
    if problem:
        errors["credit_code"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if Provider.objects.filter(credit_code=code).exists():
            raise ValidationError({"credit_code": "该统一社会信用代码已申请或在名单中。"})
        provider = Provider.objects.create(name=name, credit_code=code, institution=institution)
        audit_record(
            actor=actor,
            action="afterschool.provider.applied",
            obj=provider,
            new={"name": name, "credit_code": code, "institution": institution},
        )
    return provider


def provider_review_qualification(
    *,
    actor,
    provider_id: int,
    licence_checked: bool,
    staff_vetted: bool,
    vetting_note: str,
    today: dt.date | None = None,
) -> Provider:
    """Record the qualification review: licence checked, staff vetted (with what was seen),
    and, for a training institution, that it is white on the list today."""
    _require(actor, "afterschool.change_provider")
    today = today or timezone.localdate()
    note = (vetting_note or "").strip()
    if staff_vetted and not note:
        raise ValidationError(
            {"vetting_note": "请填写人员审查记录（如无犯罪记录查询情况、审查人、日期）。"}
        )
    with transaction.atomic():
        provider = _locked(provider_id)
        if provider.status != Status.APPLIED:
            raise ValidationError(
                {"status": f"该机构当前为“{provider.get_status_display()}”，无需资质审核。"}
            )
        problem = _institution_problem(provider, today)
        if problem:
            raise ValidationError({"institution": problem})
        old = {
            "licence_checked": provider.licence_checked,
            "staff_vetted": provider.staff_vetted,
            "vetting_note": provider.vetting_note,
        }
        provider.licence_checked = bool(licence_checked)
        provider.staff_vetted = bool(staff_vetted)
        provider.vetting_note = note
        provider.save(update_fields=["licence_checked", "staff_vetted", "vetting_note"])
        audit_record(
            actor=actor,
            action="afterschool.provider.qualification_reviewed",
            obj=provider,
            old=old,
            new={"licence_checked": provider.licence_checked,
                 "staff_vetted": provider.staff_vetted, "vetting_note": note},
        )  # fmt: skip
    return provider


def contract_add(
    *,
    actor,
    provider_id: int,
    items: str,
    price_per_lesson: Decimal,
    outside_price: Decimal,
    start: dt.date,
    end: dt.date,
) -> ProviderContract:
    """A contract: its items, a price per lesson below the provider's outside price, a term."""
    _require(actor, "afterschool.add_providercontract")
    items = (items or "").strip()
    price, outside = Decimal(price_per_lesson), Decimal(outside_price)
    errors: dict[str, list[str]] = {}
    if not items:
        errors.setdefault("items", []).append("请填写服务项目。")
    if price <= 0:
        errors.setdefault("price_per_lesson", []).append("课时单价应大于0元。")
    elif price >= outside:
        # 点餐制: the whitelist price must be clearly below the price outside school
        errors.setdefault("price_per_lesson", []).append(
            f"课时单价{price}元须低于该机构校外同类课时价{outside}元。"
        )
    if end < start:
        errors.setdefault("end", []).append("合同结束日期不能早于开始日期。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        provider = _locked(provider_id)
        if provider.status not in (Status.APPLIED, Status.ADMITTED):
            raise ValidationError(
                {"status": f"该机构{provider.get_status_display()}，不能签订服务合同。"}
            )
        contract = ProviderContract.objects.create(
            provider=provider, items=items, price_per_lesson=price, outside_price=outside,
            start=start, end=end,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="afterschool.contract.added",
            obj=contract,
            new={"provider": provider, "items": items, "price_per_lesson": price,
                 "outside_price": outside, "start": start, "end": end},
        )  # fmt: skip
    return contract


def provider_admit(*, actor, provider_id: int, today: dt.date | None = None) -> Provider:
    """Onto the whitelist: the qualification review done and a contract not yet ended."""
    _require(actor, "afterschool.change_provider")
    today = today or timezone.localdate()
    with transaction.atomic():
        provider = _locked(provider_id)
        if provider.status == Status.ADMITTED:
            return provider
        _check_move(provider, Status.ADMITTED)
        errors: dict[str, list[str]] = {}
        if not provider.licence_checked:
            errors.setdefault("licence_checked", []).append("尚未核验资质（营业执照、办学许可）。")
        if not provider.staff_vetted:
            errors.setdefault("staff_vetted", []).append("尚未完成从业人员审查。")
        if not provider.contracts.filter(end__gte=today).exists():
            errors.setdefault("contracts", []).append("准入前须至少签订一份未到期的服务合同。")
        problem = _institution_problem(provider, today)
        if problem:
            errors.setdefault("institution", []).append(problem)
        if errors:
            raise ValidationError(errors)
        provider.status = Status.ADMITTED
        provider.admitted_on = today
        provider.save(update_fields=["status", "admitted_on"])
        audit_record(
            actor=actor,
            action="afterschool.provider.admitted",
            obj=provider,
            old={"status": Status.APPLIED},
            new={"status": Status.ADMITTED, "admitted_on": today},
        )
    return provider


def provider_reject(*, actor, provider_id: int, reason: str) -> Provider:
    _require(actor, "afterschool.change_provider")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "不予准入时必须说明原因。"})
    with transaction.atomic():
        provider = _locked(provider_id)
        if provider.status == Status.REJECTED:
            return provider
        _check_move(provider, Status.REJECTED)
        provider.status = Status.REJECTED
        provider.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="afterschool.provider.rejected",
            obj=provider,
            old={"status": Status.APPLIED},
            new={"status": Status.REJECTED, "reason": reason},
        )
    return provider


def provider_review(
    *, actor, provider_id: int, year: int, passed: bool, date: dt.date, note: str = ""
) -> ProviderReview:
    """The annual review (年审) of an admitted provider; one result a year, correctable."""
    _require(actor, "afterschool.add_providerreview")
    with transaction.atomic():
        provider = _locked(provider_id)
        if provider.status != Status.ADMITTED:
            raise ValidationError(
                {"status": f"该机构当前为“{provider.get_status_display()}”，不在年审范围。"}
            )
        review, created = ProviderReview.objects.update_or_create(
            provider=provider, year=year,
            defaults={"passed": bool(passed), "date": date, "note": (note or "").strip()},
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="afterschool.provider.reviewed",
            obj=provider,
            new={"year": year, "passed": bool(passed), "date": date, "note": review.note,
                 "corrected": not created},
        )  # fmt: skip
    return review


def provider_exit(*, actor, provider_id: int, reason: str, date: dt.date | None = None) -> Provider:
    """Off the whitelist, with a reason; its courses are closed so that it takes no future
    sessions (the menu code offers only ``admitted_contracts``)."""
    _require(actor, "afterschool.change_provider")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "退出名单时必须说明原因。"})
    date = date or timezone.localdate()
    with transaction.atomic():
        # lock order: provider, then its offerings by primary key (as everywhere)
        provider = _locked(provider_id)
        if provider.status == Status.EXITED:
            return provider
        _check_move(provider, Status.EXITED)
        offerings = list(
            locked(Offering.objects.filter(contract__provider=provider), of=("self",))
            .exclude(status=Offering.Status.CLOSED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Offering.objects.filter(pk__in=offerings).update(status=Offering.Status.CLOSED)
        # its future lessons are not held: under every school's rule their fee goes back
        # (afterschool.fees.refund_view counts lessons cancelled after billing)
        cancelled = Lesson.objects.filter(
            offering_id__in=offerings, status=Lesson.Status.SCHEDULED, date__gt=date
        ).update(status=Lesson.Status.CANCELLED, cancel_reason=f"机构退出名单：{reason}"[:200])
        provider.status = Status.EXITED
        provider.exit_reason = reason
        provider.exited_on = date
        provider.save(update_fields=["status", "exit_reason", "exited_on"])
        audit_record(
            actor=actor,
            action="afterschool.provider.exited",
            obj=provider,
            old={"status": Status.ADMITTED},
            new={"status": Status.EXITED, "reason": reason, "date": date,
                 "offerings_closed": offerings, "lessons_cancelled": cancelled},
        )  # fmt: skip
    return provider


# --- the admin's forms ---------------------------------------------------------------------

QUALIFICATION_FIELDS = ["licence_checked", "staff_vetted", "vetting_note"]
PROVIDER_FIELDS = ["name", "credit_code", "institution", *QUALIFICATION_FIELDS]


def provider_save(*, actor, provider: Provider) -> Provider:
    """The admin's provider form: a new provider applies (``provider_apply``'s checks); a
    change of its particulars or of the qualification record is audited with the old and
    new values. Status never moves here (admission and exit are the services above)."""
    if provider.pk is None:
        typed = {f: getattr(provider, f) for f in QUALIFICATION_FIELDS}
        created = provider_apply(
            actor=actor,
            name=provider.name,
            credit_code=provider.credit_code,
            institution=provider.institution,
        )
        provider.pk = created.pk
        provider.refresh_from_db()
        if typed == {f: getattr(provider, f) for f in QUALIFICATION_FIELDS}:
            return provider
        for field, value in typed.items():  # the qualification record typed with it
            setattr(provider, field, value)
    _require(actor, "afterschool.change_provider")
    problem = uscc.problem(provider.credit_code)
    if problem:
        raise ValidationError({"credit_code": problem})
    if provider.staff_vetted and not (provider.vetting_note or "").strip():
        raise ValidationError({"vetting_note": "请填写人员审查记录。"})
    with transaction.atomic():
        before = _locked(provider.pk)
        old = snapshot(before, PROVIDER_FIELDS)
        provider.credit_code = provider.credit_code.strip().upper()
        provider.save(update_fields=PROVIDER_FIELDS)
        new = snapshot(provider, PROVIDER_FIELDS)
        if new != old:
            audit_record(
                actor=actor, action="afterschool.provider.changed", obj=provider, old=old, new=new
            )
    return provider


def provider_inlines_save(*, actor, formset) -> None:
    """The admin's contract and annual-review rows of a provider: each addition, change and
    deletion audited in one transaction (the admin checked the model permissions)."""
    from django.forms.models import model_to_dict

    require(is_bureau(actor, line="afterschool"))
    with transaction.atomic():
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit_record(
                actor=actor, action=_inline_action(obj, "deleted"), obj=obj,
                old=model_to_dict(obj),
            )  # fmt: skip
            obj.delete()
        for obj in instances:
            created = obj.pk is None
            obj.save()
            audit_record(
                actor=actor,
                action=_inline_action(obj, "created" if created else "changed"),
                obj=obj,
                new=model_to_dict(obj),
            )
        formset.save_m2m()


def _inline_action(obj, verb: str) -> str:
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}.{verb}"


def admitted_contracts(on: dt.date | None = None) -> QuerySet:
    """Contracts a school may put on its menu: of admitted providers, current on ``on``."""
    on = on or timezone.localdate()
    return ProviderContract.objects.filter(
        provider__status=Status.ADMITTED, start__lte=on, end__gte=on
    ).select_related("provider")


def review_due_since(today: dt.date) -> dt.date:
    """A passed review on or after this date keeps an admitted provider in good standing."""
    return today - relativedelta(months=REVIEW_VALID_MONTHS)
