"""Every write of enforcement (专项整治, 约谈, sanctions, 通报): one service per change, each in
its own transaction, audited, refusing bad input with the rule named in Chinese and writing
nothing then.

- Findings: a failed checklist item opens a finding of the compliance engine under the rule
  ``institutions.inspection.failed_item`` (registered in institutions/enforcement_checks.py),
  keyed the way the engine keys it, so the nightly run keeps the same row open until a
  later visit passes the item, then resolves it; bureau staff handle it with portal.findings.
- Sanctions go through the institution's own state: 暂停 is services.institution_suspend,
  closing it services.institution_resume; 吊销 sets ``licence_revoked`` (black); 责令整改 makes
  the institution grey from the midnight after its deadline while open (colour.py). Each
  records the list colour (services.record_colour).
- Every change the public pages show (sanctions, notices) bumps the public cache."""

import datetime as dt
import random
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from institutions import services
from institutions.enforcement_models import (
    CHECKLIST,
    EnforcementNotice,
    InspectionGroup,
    InspectionRound,
    Interview,
    NoticeEntry,
    PatrolSite,
    PlannedVisit,
    Sanction,
    Visit,
    VisitItem,
    VisitPhoto,
)
from institutions.models import Complaint, Institution
from portal import evidence
from portal.audit import audit_record
from portal.compliance import Found, open_finding
from portal.locks import locked
from portal.models import District, Finding
from portal.permissions import bureau_of_line, is_bureau, require
from portal.public_cache import bump

LINE = "institutions"
RULE_FAILED_ITEM = "institutions.inspection.failed_item"
RULE_RECTIFY_OVERDUE = "institutions.enforcement.rectify_overdue"
RULE_NO_FOLLOW_UP = "institutions.enforcement.no_follow_up"
MAX_SEED = 2**63 - 1


def _may(actor, perm: str) -> None:
    """Bureau staff of the training line holding ``perm``; others: 403."""
    require(is_bureau(actor, line=LINE, perm=perm))


def _text(value) -> str:
    return (value or "").strip()


def _institution(institution_id) -> Institution:
    try:
        return services._locked_institution(int(institution_id))
    except (Institution.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"institution": "培训机构不存在，请重新选择。"}) from None


# --- rounds (专项整治) ------------------------------------------------------------------------


def round_create(*, actor, name: str, starts_on: dt.date, ends_on: dt.date) -> InspectionRound:
    _may(actor, "institutions.add_inspectionround")
    name = _text(name)
    errors = {}
    if not name:
        errors["name"] = "请填写专项整治名称。"
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "专项整治的结束日期不能早于开始日期。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rnd = InspectionRound.objects.create(
            name=name, starts_on=starts_on, ends_on=ends_on, created_by=actor
        )
        audit_record(
            actor=actor, action="institutions.inspection.round_created", obj=rnd,
            new={"name": name, "starts_on": starts_on, "ends_on": ends_on},
        )  # fmt: skip
    return rnd


def group_add(*, actor, round_id: int, name: str, inspector_ids) -> InspectionGroup:
    """A group of inspectors of a round: bureau staff of the training line only."""
    _may(actor, "institutions.add_inspectiongroup")
    name = _text(name)
    ids = sorted({int(i) for i in inspector_ids or []})
    errors = {}
    if not name:
        errors["name"] = "请填写检查组名称。"
    if not ids:
        errors["inspectors"] = "检查组至少要有一名检查人员。"
    elif bureau_of_line(LINE).filter(pk__in=ids).count() != len(ids):
        errors["inspectors"] = "检查人员须为本局校外培训条线的工作人员。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rnd = locked(InspectionRound.objects.filter(pk=round_id)).get()
        if rnd.groups.filter(name=name).exists():
            raise ValidationError({"name": f"本次专项整治已有名为“{name}”的检查组。"})
        group = InspectionGroup.objects.create(round=rnd, name=name)
        group.inspectors.set(ids)
        audit_record(
            actor=actor, action="institutions.inspection.group_added", obj=rnd,
            new={"group": name, "inspectors": ids},
        )  # fmt: skip
    return group


def draw_candidates(*, district_id=None, category: str = ""):
    """The register the plan is drawn from: institutions not deregistered, by primary key
    (a fixed order, so that the same seed draws the same institutions)."""
    qs = Institution.objects.exclude(governance=Institution.Governance.DEREGISTERED)
    if district_id:
        qs = qs.filter(district_id=district_id)
    if category:
        qs = qs.filter(category=category)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def draw(candidates: list[int], *, count: int | None, seed: int) -> list[int]:
    """``count`` of ``candidates`` at random by ``random.Random(seed)`` (all of them when
    ``count`` is None or not smaller): reproducible from the seed and the register."""
    if count is None or count >= len(candidates):
        return list(candidates)
    return sorted(random.Random(seed).sample(candidates, count))  # noqa: S311 - not a secret


def round_draw(
    *, actor, round_id: int, district_id=None, category: str = "", count=None, seed=None
) -> list[PlannedVisit]:
    """The plan of a round: the institutions of the district / category, all or ``count``
    drawn at random with ``seed`` (a new one, recorded, when not given), shared out among
    the round's groups in turn. Drawn once: the seed and the criteria stay on the round."""
    _may(actor, "institutions.add_plannedvisit")
    if category and category not in Institution.Category.values:
        raise ValidationError({"category": "类别不存在，请重新选择。"})
    if count is not None and count < 1:
        raise ValidationError({"count": "随机抽取家数须为正整数（不填则全部检查）。"})
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ValidationError({"seed": "随机种子须为非负整数。"})
    if district_id and not District.objects.filter(pk=district_id).exists():
        raise ValidationError({"district": "所选区不存在，请重新选择。"})
    seed = secrets.randbelow(2**31) if seed is None and count is not None else seed
    with transaction.atomic():
        rnd = locked(InspectionRound.objects.filter(pk=round_id)).get()
        if rnd.planned.exists():
            raise ValidationError(
                "该专项整治已抽取检查对象（抽取只做一次，种子和范围已记录），不能重新抽取。"
            )
        chosen = draw(
            draw_candidates(district_id=district_id, category=category), count=count, seed=seed
        )
        if not chosen:
            raise ValidationError("所选范围内没有可检查的培训机构，未抽取。")
        groups = list(rnd.groups.order_by("pk"))
        planned = PlannedVisit.objects.bulk_create([
            PlannedVisit(round=rnd, institution_id=pk,
                         group=groups[n % len(groups)] if groups else None)
            for n, pk in enumerate(chosen)
        ])  # fmt: skip
        rnd.draw_district_id = district_id or None
        rnd.draw_category = category or ""
        rnd.draw_count = count
        rnd.draw_seed = seed
        rnd.save(update_fields=["draw_district", "draw_category", "draw_count", "draw_seed"])
        audit_record(
            actor=actor, action="institutions.inspection.drawn", obj=rnd,
            new={"district": district_id, "category": category, "count": count, "seed": seed,
                 "institutions": chosen},
        )  # fmt: skip
    return planned


# --- visits ---------------------------------------------------------------------------------


def _open_finding(item: VisitItem, visit: Visit, institution: Institution) -> Finding:
    """Open the engine's finding for a failed item now (the nightly run of the same rule then
    keeps it and resolves it once a later visit passes)."""
    found = Found(
        subject=item, institution_id=institution.pk, message=failed_item_message(item, visit)
    )
    return open_finding(RULE_FAILED_ITEM, found, day=visit.date)


def failed_item_message(item: VisitItem, visit: Visit) -> str:
    note = f"：{item.note}" if item.note else ""
    return (f"{visit.institution.name} {visit.date} 检查“{item.get_item_display()}”不合格{note}")[
        :1000
    ]


def visit_record(
    *, actor, institution_id, date: dt.date, results: dict, files: dict | None = None,
    round_id=None, follow_up_of_id=None, interview_id=None, note: str = "",
) -> Visit:  # fmt: skip
    """Record a visit: ``results`` {item: (passed: bool | None, note)} for every checklist
    item (CHECKLIST), ``files`` {item: [uploads]} the photos of each item. Refused whole
    when an item has no result, a failed item has no note, or a photo is not a PDF/JPG/PNG.
    Each failed item opens a finding; ``interview_id``: this is that 约谈's follow-up."""
    _may(actor, "institutions.add_visit")
    files = files or {}
    errors = {}
    missing = [str(c.label) for c in CHECKLIST if (results.get(c.value) or (None,))[0] is None]
    if missing:
        errors["items"] = (
            "检查记录须逐项填写结果（合格或不合格），以下项目未填写：" + "、".join(missing) + "。"
        )
    unexplained = [
        str(c.label) for c in CHECKLIST
        if (results.get(c.value) or (None,))[0] is False and not _text(results[c.value][1])
    ]  # fmt: skip
    if unexplained:
        errors["notes"] = "不合格项目须写明问题：" + "、".join(unexplained) + "。"
    if date is None:
        errors["date"] = "请填写检查日期。"
    elif date > timezone.localdate():
        errors["date"] = "检查日期不能晚于今天。"
    if errors:
        raise ValidationError(errors)
    checked = {
        item: evidence.check_files(uploads, what="检查记录")
        for item, uploads in files.items()
        if uploads
    }
    with transaction.atomic(), evidence.storing() as write:
        institution = _institution(institution_id)
        rnd = None
        if round_id:
            rnd = InspectionRound.objects.filter(pk=round_id).first()
            if rnd is None:
                raise ValidationError({"round": "专项整治不存在，请重新选择。"})
        interview = None
        if interview_id:
            interview = (
                locked(Interview.objects.filter(pk=interview_id, institution=institution))
                .first()
            )  # fmt: skip
            if interview is None:
                raise ValidationError({"interview": "约谈记录不存在或不属于该机构。"})
            if date < interview.date:
                raise ValidationError({"date": "复查日期不能早于约谈日期。"})
        earlier = None
        if follow_up_of_id:
            earlier = Visit.objects.filter(pk=follow_up_of_id, institution=institution).first()
            if earlier is None:
                raise ValidationError({"follow_up_of": "被复查的检查记录不存在或不属于该机构。"})
        elif interview is not None and interview.visit_id:
            earlier = interview.visit
        visit = Visit.objects.create(
            round=rnd, institution=institution, date=date, inspector=actor,
            follow_up_of=earlier, note=_text(note),
        )  # fmt: skip
        items = VisitItem.objects.bulk_create([
            VisitItem(visit=visit, item=c.value, passed=bool(results[c.value][0]),
                      note=_text(results[c.value][1])[:500])
            for c in CHECKLIST
        ])  # fmt: skip
        by_code = {i.item: i for i in items}
        stored = []
        for code, rows in checked.items():
            for row in rows:
                stored.append(VisitPhoto(
                    visit=visit, item=by_code.get(code), name=row.name, kind=row.kind,
                    size=row.size, sha256=row.sha256, path=write(row),
                ))  # fmt: skip
        VisitPhoto.objects.bulk_create(stored)
        failed = [i for i in items if not i.passed]
        for item in failed:
            _open_finding(item, visit, institution)
        if interview is not None:
            interview.follow_up_visit = visit
            interview.save(update_fields=["follow_up_visit"])
        audit_record(
            actor=actor, action="institutions.inspection.visited", obj=institution,
            new={"visit": visit.pk, "date": date, "round": round_id,
                 "failed": [i.item for i in failed], "interview": interview_id,
                 "photos": [{"name": p.name, "sha256": p.sha256} for p in stored]},
        )  # fmt: skip
    return visit


def patrol_record(
    *, actor, name: str, address: str, district_id, found_on: dt.date, outcome: str,
    handed_to: str = "", note: str = "", round_id=None,
) -> PatrolSite:  # fmt: skip
    """An unlicensed site found on patrol: 取缔 on the spot or 移交 to another department."""
    _may(actor, "institutions.add_patrolsite")
    errors = {}
    if not _text(name):
        errors["name"] = "请填写场所名称。"
    if not _text(address):
        errors["address"] = "请填写无证场所的地址。"
    if outcome not in PatrolSite.Outcome.values:
        errors["outcome"] = "请选择处理结果（取缔或移交）。"
    elif outcome == PatrolSite.Outcome.HANDED_OVER and not _text(handed_to):
        errors["handed_to"] = "移交时须填写接收部门（如市场监管、公安）。"
    if found_on and found_on > timezone.localdate():
        errors["found_on"] = "发现日期不能晚于今天。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        site = PatrolSite.objects.create(
            name=_text(name), address=_text(address), district_id=district_id,
            found_on=found_on, outcome=outcome, handed_to=_text(handed_to), note=_text(note),
            round_id=round_id or None, recorded_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="institutions.inspection.patrol_recorded", obj=site,
            new={"address": site.address, "outcome": outcome, "handed_to": site.handed_to},
        )  # fmt: skip
    return site


# --- 约谈 -------------------------------------------------------------------------------------


def interview_record(
    *, actor, institution_id, date: dt.date, attendees: str, problems: str,
    deadline: dt.date, visit_id=None,
) -> Interview:  # fmt: skip
    _may(actor, "institutions.add_interview")
    errors = {}
    if not _text(attendees):
        errors["attendees"] = "请填写参加约谈的人员。"
    if not _text(problems):
        errors["problems"] = "请填写约谈指出的问题。"
    if date and deadline and deadline < date:
        errors["deadline"] = f"整改期限（{deadline}）不能早于约谈日期（{date}）。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        institution = _institution(institution_id)
        if visit_id and not Visit.objects.filter(pk=visit_id, institution=institution).exists():
            raise ValidationError({"visit": "来源检查记录不存在或不属于该机构。"})
        interview = Interview.objects.create(
            institution=institution, date=date, attendees=_text(attendees),
            problems=_text(problems), deadline=deadline, visit_id=visit_id or None,
            recorded_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="institutions.enforcement.interviewed", obj=institution,
            new={"interview": interview.pk, "date": date, "deadline": deadline},
        )  # fmt: skip
    return interview


# --- sanctions ------------------------------------------------------------------------------

K = Sanction.Kind


def sanction_decide(
    *, actor, institution_id, kind: str, decided_on: dt.date, reason: str,
    deadline: dt.date | None = None, visit_id=None, interview_id=None, finding_id=None,
    complaint_id=None,
) -> Sanction:  # fmt: skip
    """警告, 责令整改 (with its deadline), 暂停 or 吊销, tied to the complaint, visit, 约谈 or
    finding it came from (at least one, of this institution)."""
    _may(actor, "institutions.add_sanction")
    errors = {}
    if kind not in K.values:
        errors["kind"] = "请选择处理类型。"
    if not _text(reason):
        errors["reason"] = "请填写违规事实。"
    if not (complaint_id or visit_id or interview_id or finding_id):
        errors["source"] = "处理决定须注明来源（举报、检查记录、约谈或检查发现），未保存。"
    if kind == K.RECTIFY:
        if deadline is None:
            errors["deadline"] = "责令整改须填写整改期限。"
        elif decided_on and deadline < decided_on:
            errors["deadline"] = f"整改期限（{deadline}）不能早于决定日期（{decided_on}）。"
    elif deadline is not None:
        deadline = None  # only 责令整改 has a deadline
    if decided_on and decided_on > timezone.localdate():
        errors["decided_on"] = "决定日期不能晚于今天。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        institution = _institution(institution_id)
        if institution.licence_revoked:
            raise ValidationError("该机构的办学许可证已被吊销，不能再作其他处理。")
        if visit_id and not Visit.objects.filter(pk=visit_id, institution=institution).exists():
            raise ValidationError({"source": "来源检查记录不存在或不属于该机构。"})
        if (
            complaint_id
            and not Complaint.objects.filter(pk=complaint_id, institution=institution).exists()
        ):
            raise ValidationError({"source": "来源举报不存在或不属于该机构。"})
        if (
            interview_id
            and not Interview.objects.filter(pk=interview_id, institution=institution).exists()
        ):
            raise ValidationError({"source": "来源约谈不存在或不属于该机构。"})
        if (
            finding_id
            and not Finding.objects.filter(pk=finding_id, institution_id=institution.pk).exists()
        ):
            raise ValidationError({"source": "来源检查发现不存在或不属于该机构。"})
        if kind == K.SUSPEND and institution.suspended_reason:
            raise ValidationError("该机构已在暂停办学中。")
        sanction = Sanction.objects.create(
            institution=institution, kind=kind, decided_on=decided_on, reason=_text(reason),
            deadline=deadline, complaint_id=complaint_id or None, visit_id=visit_id or None,
            interview_id=interview_id or None, finding_id=finding_id or None, decided_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action=f"institutions.sanction.{kind}", obj=institution,
            new={"sanction": sanction.pk, "decided_on": decided_on, "deadline": deadline,
                 "complaint": complaint_id, "visit": visit_id, "interview": interview_id,
                 "finding": finding_id},
        )  # fmt: skip
        if kind == K.SUSPEND:
            services.institution_suspend(
                actor=actor, institution_id=institution.pk,
                reason=f"{K.SUSPEND.label}（{decided_on}）：{_text(reason)}"[:300],
            )  # fmt: skip
            institution.refresh_from_db()
        elif kind == K.REVOKE:
            institution.licence_revoked = True
            institution.save(update_fields=["licence_revoked", "updated_at"])
            audit_record(
                actor=actor, action="institutions.institution.revoked", obj=institution,
                old={"licence_revoked": False}, new={"licence_revoked": True},
            )  # fmt: skip
        services.record_colour(institution)
        bump("institutions")
    return sanction


def sanction_close(*, actor, sanction_id: int, closed_on: dt.date, note: str) -> Sanction:
    """整改 done (a 责令整改 closed: the institution is no longer grey for it) or a 暂停 lifted
    (services.institution_resume). A 警告 or a 吊销 is not closed."""
    _may(actor, "institutions.change_sanction")
    if not _text(note):
        raise ValidationError({"note": "请填写整改完成情况（如复查结论）。"})
    with transaction.atomic():
        sanction = locked(Sanction.objects.filter(pk=sanction_id)).get()
        institution = _institution(sanction.institution_id)
        if sanction.kind not in (K.RECTIFY, K.SUSPEND):
            raise ValidationError(f"“{K(sanction.kind).label}”无需办结。")
        if sanction.closed_on is not None:
            return sanction
        if closed_on is None or closed_on < sanction.decided_on:
            raise ValidationError({"closed_on": "整改完成日期不能早于决定日期。"})
        if closed_on > timezone.localdate():
            raise ValidationError({"closed_on": "整改完成日期不能晚于今天。"})
        sanction.closed_on = closed_on
        sanction.closed_note = _text(note)[:500]
        sanction.save(update_fields=["closed_on", "closed_note"])
        audit_record(
            actor=actor, action="institutions.sanction.closed", obj=institution,
            new={"sanction": sanction.pk, "closed_on": closed_on, "note": sanction.closed_note},
        )  # fmt: skip
        if sanction.kind == K.SUSPEND:
            services.institution_resume(actor=actor, institution_id=institution.pk)
            institution.refresh_from_db()
        services.record_colour(institution)
        bump("institutions")
    return sanction


# --- 通报 -------------------------------------------------------------------------------------


def notice_publish(
    *, actor, title: str, date: dt.date, body: str = "", entries: list[dict]
) -> EnforcementNotice:
    """Publish a 通报: ``entries`` [{institution_id, violation, sanction_id, outcome}], at
    least one, each institution once, each sanction of its own institution."""
    _may(actor, "institutions.add_enforcementnotice")
    errors = {}
    if not _text(title):
        errors["title"] = "请填写通报标题。"
    if not entries:
        errors["entries"] = "通报须至少列出一家机构，未发布。"
    rows = []
    for n, entry in enumerate(entries, start=1):
        if not _text(entry.get("violation")):
            errors.setdefault("entries", f"第{n}行：请填写违规行为。")
        rows.append(entry)
    ids = [int(e["institution_id"]) for e in rows]
    if len(set(ids)) != len(ids):
        errors.setdefault("entries", "同一机构在一份通报中只能列出一次。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        known = set(Institution.objects.filter(pk__in=ids).values_list("pk", flat=True))
        for n, entry in enumerate(rows, start=1):
            if int(entry["institution_id"]) not in known:
                raise ValidationError({"entries": f"第{n}行：培训机构不存在。"})
            sid = entry.get("sanction_id")
            if (
                sid
                and not Sanction.objects.filter(
                    pk=sid, institution_id=entry["institution_id"]
                ).exists()
            ):
                raise ValidationError({"entries": f"第{n}行：处理决定不属于该机构。"})
        notice = EnforcementNotice.objects.create(
            title=_text(title), date=date, body=_text(body), published_by=actor
        )
        NoticeEntry.objects.bulk_create([
            NoticeEntry(notice=notice, institution_id=int(e["institution_id"]),
                        violation=_text(e["violation"])[:500],
                        sanction_id=e.get("sanction_id") or None,
                        outcome=_text(e.get("outcome"))[:300])
            for e in rows
        ])  # fmt: skip
        audit_record(
            actor=actor, action="institutions.enforcement.notice_published", obj=notice,
            new={"title": notice.title, "date": date, "institutions": ids},
        )  # fmt: skip
        bump("institutions")
    return notice
