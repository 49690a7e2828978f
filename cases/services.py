"""Every write of the case library: import, submission, review and publication."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import search
from cases.models import Case, SourceDocument
from cases.parsing import (
    NotACollection,
    ParsedDocument,
    content_hash,
    infer_year,
    parse_collection,
    title_year,
)
from portal.access import SCHOOL, kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.permissions import is_bureau, require

__all__ = [
    "ImportResult",
    "check_import_size",
    "NotACollection",
    "case_admin_save",
    "case_resubmit",
    "case_review",
    "case_submit",
    "cases_delete",
    "decode_upload",
    "document_admin_save",
    "document_import",
    "documents_delete",
]

REVIEW_PERM = "cases.change_case"


@dataclass
class ImportResult:
    document: SourceDocument
    created: bool
    cases: int
    # titles of the cases left out because the library already had them (same text)
    skipped: list[str] = field(default_factory=list)


def check_import_size(size: int) -> None:
    """Refuse a collection over PORTAL_CASES_IMPORT_MAX_BYTES, naming the limit."""
    limit = settings.PORTAL_CASES_IMPORT_MAX_BYTES
    if size > limit:
        raise NotACollection(
            f"文件大小 {_size(size)}，超过导入上限 {_size(limit)}"
            "（设置项 PORTAL_CASES_IMPORT_MAX_BYTES），未导入任何案例。"
            "一份典型案例汇编通常不足 100 KB：请检查文件是否把同一汇编重复粘贴了多次。"
        )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def decode_upload(data: bytes) -> str:
    """Published texts come as UTF-8 (with or without BOM) or GB18030 (older PDFs' exports)."""
    check_import_size(len(data))
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


def _year(*, date, titles, text) -> tuple[int | None, str]:
    """(year, source) of a case: its date's; else a year a title names; else the latest
    year the text reports (cases.parsing.infer_year)."""
    if date:
        return date.year, Case.YearSource.DATE
    latest = timezone.localdate().year
    for title in titles:
        if year := title_year(title, latest):
            return year, Case.YearSource.TITLE
    if year := infer_year(text, latest):
        return year, Case.YearSource.TEXT
    return None, ""


def _duplicate_of(text_hash: str, exclude_pk=None) -> Case | None:
    qs = Case.objects.filter(content_hash=text_hash)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.only("pk", "title").first()


def document_import(*, text: str, filename: str = "", actor=None) -> ImportResult:
    """Import a published collection whole. The same text again changes nothing; a text that
    is not a collection, or is over the size limit, raises NotACollection (with a Chinese
    message) and imports nothing. A case the library already has (same text, another file
    or layout) is skipped and named in the result; its text stays in the document's
    preface, so nothing of the original is lost. A collection with nothing new is refused."""
    if getattr(actor, "is_authenticated", False):  # None: a command or the demo loader
        require(is_bureau(actor, line="cases", perm="cases.add_sourcedocument"))
    check_import_size(len(text.encode("utf-8")))
    parsed: ParsedDocument = parse_collection(text)
    with transaction.atomic():
        existing = SourceDocument.objects.filter(fingerprint=parsed.fingerprint).first()
        if existing is not None:
            return ImportResult(existing, False, existing.cases.count())
        hashes = [content_hash(item.body) for item in parsed.cases]
        known = set(
            Case.objects.filter(content_hash__in=hashes).values_list("content_hash", flat=True)
        )
        new, skipped, seen = [], [], set()
        for item, text_hash in zip(parsed.cases, hashes, strict=True):
            if text_hash in known or text_hash in seen:
                skipped.append(item)
            else:
                new.append((item, text_hash))
                seen.add(text_hash)
        if not new:
            raise NotACollection(
                f"文件中的 {len(skipped)} 个案例都已在案例库中（正文相同），未导入："
                + _titles(skipped)
            )
        date = _date(parsed.date)
        # a skipped case's text joins the preface: the pieces still tile the original
        spans = sorted([*map(list, parsed.preface_spans), *([c.start, c.end] for c in skipped)])
        document = SourceDocument.objects.create(
            title=parsed.title or filename or "未命名案例集",
            issuer=parsed.issuer,
            doc_number=parsed.doc_number,
            date=date,
            preface="".join(parsed.source[a:b] for a, b in spans),
            preface_spans=spans,
            original=parsed.source,
            fingerprint=parsed.fingerprint,
            filename=filename[:255],
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        cases = []
        for item, text_hash in new:
            year, year_source = _year(
                date=date, titles=[item.title, document.title], text=parsed.source
            )
            case = Case(
                title=item.title[:300],
                province=item.province,
                city=item.city,
                district=item.district,
                place=item.place[:100],
                unit=item.unit[:200],
                themes=list(item.themes or [item.theme]),
                theme_source=item.theme_source,
                source=document,
                position=item.number,
                start=item.start,
                end=item.end,
                raw=item.raw,
                body=item.body,
                published_on=date,
                year=year,
                year_source=year_source,
                content_hash=text_hash,
                status=Case.Status.PUBLISHED,
            )
            search.prepare(case)
            cases.append(case)
        Case.objects.bulk_create(cases)
        search.refresh_index(Case.objects.filter(source=document))
        audit_record(
            actor=actor,
            action="cases.document.imported",
            obj=document,
            new={
                "cases": len(cases),
                "filename": filename,
                "doc_number": document.doc_number,
                "skipped": [item.title for item in skipped],
            },
        )
    return ImportResult(document, True, len(cases), [item.title for item in skipped])


def _titles(items, limit: int = 10) -> str:
    names = "、".join(f"“{item.title[:40]}”" for item in items[:limit])
    return names + (f"等 {len(items)} 个" if len(items) > limit else "") + "。"


# --- a school's submission and the bureau's review ---------------------------------------


def _identify(case: Case) -> None:
    """The case's text hash (refused, naming the other case, when the library has the same
    text) and its search segmentation."""
    case.content_hash = content_hash(case.body)
    other = _duplicate_of(case.content_hash, exclude_pk=case.pk)
    if other is not None:
        raise ValidationError(
            {"body": f"案例库中已有正文相同的案例“{other.title[:60]}”，请勿重复报送。"}
        )
    search.prepare(case)


def case_submit(*, user, title: str, themes: list[str], body: str, unit: str = "") -> Case:
    require(kind_of(user) == SCHOOL)
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
        _identify(case)
        case.save()
        search.refresh_index(Case.objects.filter(pk=case.pk))
        audit_record(
            actor=user,
            action="cases.case.submitted",
            obj=case,
            new={"title": title, "themes": themes},
        )
    return case


def case_resubmit(*, user, case_id: int, title: str, themes: list[str], body: str) -> Case:
    """A returned case, edited by its school and sent back for review."""
    require(kind_of(user) == SCHOOL)
    with transaction.atomic():
        case = locked(
            Case.objects.filter(pk=case_id, school_id=user.school_staff.school_id)
        ).first()
        require(case is not None)  # another school's case (the page shows a 404)
        if case.status != Case.Status.RETURNED:
            raise ValidationError("只有被退回的案例可以修改后重新提交。")
        old = {"title": case.title, "themes": case.themes, "body": case.body}
        case.title, case.themes, case.body = title, themes, body
        case.status = Case.Status.SUBMITTED
        _identify(case)
        case.save(
            update_fields=[
                "title",
                "themes",
                "body",
                "status",
                "content_hash",
                "search_title",
                "search_body",
                "search_length",
                "updated_at",
            ]
        )
        search.refresh_index(Case.objects.filter(pk=case.pk))
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
    require(is_bureau(actor, line="cases", perm=REVIEW_PERM))
    try:
        to = Case.Status(to)
    except ValueError:
        raise ValidationError({"to": "请选择处理方式。"}) from None
    with transaction.atomic():
        case = locked(Case.objects.filter(pk=case_id)).get()
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
            case.year, case.year_source = case.published_on.year, Case.YearSource.DATE
            fields += ["published_on", "year", "year_source"]
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


# --- the admin: the same door ------------------------------------------------------------

SEARCHED_FIELDS = {"title", "themes", "unit", "body", "province", "city", "district", "place"}


def case_admin_save(*, actor, case: Case, changed: list[str]) -> Case:
    """A case added or corrected in the admin: its search segmentation and vectors follow
    the text (the public search finds what the page shows), audited."""
    creating = case.pk is None
    perm = "cases.add_case" if creating else "cases.change_case"
    require(is_bureau(actor, line="cases", perm=perm))
    with transaction.atomic():
        old = None
        if not creating:
            before = locked(Case.objects.filter(pk=case.pk)).values("pk", *changed).first()
            require(before is not None)
            old = {name: before[name] for name in changed}
        if creating or SEARCHED_FIELDS & set(changed):
            _identify(case)
        if "published_on" in changed or (creating and case.published_on):
            year, source = _year(date=case.published_on, titles=[case.title], text=case.body)
            case.year, case.year_source = year, source
        case.save()
        search.refresh_index(Case.objects.filter(pk=case.pk))
        audit_record(
            actor=actor,
            action="cases.case.created" if creating else "cases.case.changed",
            obj=case,
            old=old,
            new={name: getattr(case, name) for name in changed},
        )
    return case


def cases_delete(*, actor, case_ids) -> int:
    """Delete cases (the admin's delete and bulk delete), each audited."""
    require(is_bureau(actor, line="cases", perm="cases.delete_case"))
    with transaction.atomic():
        cases = list(locked(Case.objects.filter(pk__in=list(case_ids))).order_by("pk"))
        for case in cases:
            audit_record(
                actor=actor,
                action="cases.case.deleted",
                obj=case,
                old={"title": case.title, "status": case.status, "source": case.source_id,
                     "school": case.school_id},
            )  # fmt: skip
        Case.objects.filter(pk__in=[c.pk for c in cases]).delete()
    return len(cases)


DOCUMENT_FIELDS = ["title", "issuer", "doc_number", "date", "preface", "original", "filename"]


def document_admin_save(*, actor, document: SourceDocument, changed: list[str]) -> SourceDocument:
    """A source document's details corrected in the admin (documents are added only by the
    import, which checks and splits them), audited."""
    require(document.pk is not None)
    require(is_bureau(actor, line="cases", perm="cases.change_sourcedocument"))
    with transaction.atomic():
        before = (
            locked(SourceDocument.objects.filter(pk=document.pk)).values("pk", *changed).first()
        )
        require(before is not None)
        document.save()
        audit_record(
            actor=actor,
            action="cases.document.changed",
            obj=document,
            old={name: before[name] for name in changed},
            new={name: getattr(document, name) for name in changed},
        )
    return document


def documents_delete(*, actor, document_ids) -> int:
    """Delete source documents with their cases (the admin's delete), audited."""
    require(is_bureau(actor, line="cases", perm="cases.delete_sourcedocument"))
    with transaction.atomic():
        documents = list(
            locked(SourceDocument.objects.filter(pk__in=list(document_ids))).order_by("pk")
        )
        for document in documents:
            audit_record(
                actor=actor,
                action="cases.document.deleted",
                obj=document,
                old={"title": document.title, "doc_number": document.doc_number,
                     "cases": document.cases.count()},
            )  # fmt: skip
        SourceDocument.objects.filter(pk__in=[d.pk for d in documents]).delete()
    return len(documents)
