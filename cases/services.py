"""Every write of the case library: import, submission, review and publication."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases import search
from cases.models import Case, SourceDocument
from cases.parsing import NotACollection, ParsedDocument, parse_collection
from portal.audit import audit_record

__all__ = ["NotACollection", "ImportResult", "document_import", "decode_upload"]


@dataclass
class ImportResult:
    document: SourceDocument
    created: bool
    cases: int


def decode_upload(data: bytes) -> str:
    """Published texts come as UTF-8 (with or without BOM) or GB18030 (older PDFs' exports)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotACollection("文件不是 UTF-8 或 GB18030 编码的纯文本，无法读取。请另存为 .txt 后重试。")


def _date(value: str):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def document_import(*, text: str, filename: str = "", actor=None) -> ImportResult:
    """Import a published collection whole. The same text again changes nothing; a text that
    is not a collection raises NotACollection (with a Chinese message) and imports nothing."""
    parsed: ParsedDocument = parse_collection(text)
    with transaction.atomic():
        existing = SourceDocument.objects.filter(fingerprint=parsed.fingerprint).first()
        if existing is not None:
            return ImportResult(existing, False, existing.cases.count())
        document = SourceDocument.objects.create(
            title=parsed.title or filename or "未命名案例集",
            issuer=parsed.issuer,
            doc_number=parsed.doc_number,
            date=_date(parsed.date),
            preface=parsed.preface,
            preface_spans=[list(span) for span in parsed.preface_spans],
            original=parsed.source,
            fingerprint=parsed.fingerprint,
            filename=filename[:255],
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        cases = []
        for item in parsed.cases:
            case = Case(
                title=item.title[:300],
                province=item.province,
                city=item.city,
                district=item.district,
                place=item.place[:100],
                unit=item.unit[:200],
                themes=[item.theme],
                theme_source=item.theme_source,
                source=document,
                position=item.number,
                start=item.start,
                end=item.end,
                raw=item.raw,
                body=item.body,
                published_on=document.date,
                status=Case.Status.PUBLISHED,
            )
            search.prepare(case)
            cases.append(case)
        Case.objects.bulk_create(cases)
        search.refresh_vectors(Case.objects.filter(source=document))
        audit_record(
            actor=actor,
            action="cases.document.imported",
            obj=document,
            new={"cases": len(cases), "filename": filename, "doc_number": document.doc_number},
        )
    return ImportResult(document, True, len(cases))


# --- a school's submission and the bureau's review ---------------------------------------


def case_submit(*, user, title: str, themes: list[str], body: str, unit: str = "") -> Case:
    staff = user.school_staff
    school = staff.school
    with transaction.atomic():
        case = Case(
            title=title,
            themes=themes,
            theme_source="school",
            body=body,
            unit=unit or school.name,
            district=school.district.name,
            school=school,
            submitted_by=user,
            status=Case.Status.SUBMITTED,
        )
        search.prepare(case)
        case.save()
        search.refresh_vectors(Case.objects.filter(pk=case.pk))
        audit_record(
            actor=user,
            action="cases.case.submitted",
            obj=case,
            new={"title": title, "themes": themes},
        )
    return case


def case_resubmit(*, user, case_id: int, title: str, themes: list[str], body: str) -> Case:
    """A returned case, edited by its school and sent back for review."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, school=user.school_staff.school)
        if case.status != Case.Status.RETURNED:
            raise ValidationError("只有被退回的案例可以修改后重新提交。")
        old = {"title": case.title, "themes": case.themes, "body": case.body}
        case.title, case.themes, case.body = title, themes, body
        case.status = Case.Status.SUBMITTED
        search.prepare(case)
        case.save(
            update_fields=[
                "title",
                "themes",
                "body",
                "status",
                "search_title",
                "search_body",
                "updated_at",
            ]
        )
        search.refresh_vectors(Case.objects.filter(pk=case.pk))
        audit_record(
            actor=user,
            action="cases.case.resubmitted",
            obj=case,
            old=old,
            new={"title": title, "themes": themes, "body": body},
        )
    return case


ACTIONS = {
    Case.Status.RETURNED: "cases.case.returned",
    Case.Status.SELECTED: "cases.case.selected",
    Case.Status.PUBLISHED: "cases.case.published",
}


def case_review(*, actor, case_id: int, to: str, comment: str = "") -> Case:
    """Bureau staff move a submitted case: return it (a comment is required), select it
    (遴选), publish it (推广). Moving to the state it is already in is a no-op."""
    if not actor.has_perm("cases.change_case"):
        raise PermissionDenied
    to = Case.Status(to)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.status == to:
            return case
        if to not in Case.TRANSITIONS[case.status]:
            raise ValidationError(
                f"案例当前状态为“{case.get_status_display()}”，不能改为“{to.label}”。"
            )
        if to == Case.Status.RETURNED and not comment.strip():
            raise ValidationError({"comment": "退回时请填写审核意见，告诉学校需要修改什么。"})
        old = {"status": case.status}
        case.status = to
        fields = ["status", "updated_at"]
        if comment.strip():
            case.review_comment = comment.strip()
            fields.append("review_comment")
        if to == Case.Status.PUBLISHED:
            case.published_on = timezone.localdate()
            fields.append("published_on")
        case.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=ACTIONS[to],
            obj=case,
            old=old,
            new={"status": to, "comment": comment.strip()},
        )
        if to == Case.Status.RETURNED and case.submitted_by_id:
            from portal.notices import notify

            notify(
                [case.submitted_by_id],
                key=f"case:{case.pk}:returned:{case.updated_at:%s%f}",
                message=f"报送的案例“{case.title[:60]}”被退回：{comment.strip()[:200]}",
            )
    return case
