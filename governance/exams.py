"""A school's exam calendar (考试安排): every write, and the rules it is held to (issue 18,
part 5).

The rules are the MoE 2021 notice on exam management in compulsory education
(《教育部办公厅关于加强义务教育学校考试管理的通知》, 2021), each a setting with the national
default:

- no paper exams in grades 1–2 (PORTAL_EXAM_NO_PAPER_MAX_GRADE = 2): no exam of any kind;
- one end-of-term exam (期末) per subject and term (PORTAL_EXAM_FINALS_PER_TERM = 1);
- lower-secondary grades (from PORTAL_EXAM_MIDTERM_MIN_GRADE = 7) may add one mid-term
  (期中) per subject and term (PORTAL_EXAM_MIDTERMS_PER_TERM = 1); primary grades none;
- results as grades, no ranking published (PORTAL_EXAM_RANKING_ALLOWED = false).

单元测验 (unit tests) are not counted by the notice's numbers; they are paper exams, so
grades 1–2 may not hold them either. Terms are the district's calendar (portal
SchoolPeriod of kind "term"): an exam on a day of no term is refused.

A school's managers enter exams (refused at entry, the rule named); rows entered in the
admin, or older rows under changed settings, are the nightly check's
(governance/exam_checks.py), which uses the same ``problems``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from governance.exam_models import Exam
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.models import School, SchoolPeriod
from portal.permissions import is_school_manager, require

K = Exam.Kind
SUBJECT_MAX = 20
FIELDS = ["school", "subject", "grade", "kind", "date", "ranked"]


def term_of(school: School, day, terms=None) -> SchoolPeriod | None:
    """The district's term holding ``day`` (``terms``: the district's terms, read once)."""
    if terms is None:
        terms = SchoolPeriod.objects.filter(
            district_id=school.district_id, kind=SchoolPeriod.Kind.TERM
        )
    for term in terms:
        if term.district_id == school.district_id and term.start <= day <= term.end:
            return term
    return None


def _limit(kind) -> int | None:
    if kind == K.FINAL:
        return settings.PORTAL_EXAM_FINALS_PER_TERM
    if kind == K.MIDTERM:
        return settings.PORTAL_EXAM_MIDTERMS_PER_TERM
    return None


def problems(*, grade, kind, ranked, term, same_before: int) -> list[str]:
    """Why an exam breaks the rules (empty: it keeps them). ``same_before``: exams of the
    same school, grade, subject, kind and term that come before it."""
    out = []
    if ranked and not settings.PORTAL_EXAM_RANKING_ALLOWED:
        out.append("考试结果实行等级评价，不得按排名公布成绩。")
    if grade <= settings.PORTAL_EXAM_NO_PAPER_MAX_GRADE:
        out.append(
            f"{settings.PORTAL_EXAM_NO_PAPER_MAX_GRADE}年级及以下不进行纸笔考试"
            f"（{grade}年级不得安排{K(kind).label}）。"
        )
        return out
    if term is None:
        out.append("考试日期不在本区任何学期内（请先在校历中设置学期）。")
        return out
    if kind == K.MIDTERM and grade < settings.PORTAL_EXAM_MIDTERM_MIN_GRADE:
        out.append(
            f"期中考试只可在{settings.PORTAL_EXAM_MIDTERM_MIN_GRADE}年级及以上安排"
            f"（小学每学期只组织一次期末考试）。"
        )
        return out
    limit = _limit(kind)
    if limit is not None and same_before >= limit:
        out.append(
            f"每学期每门学科最多 {limit} 次{K(kind).label}考试："
            f"{term.name}已安排 {same_before} 次。"
        )
    return out


def _clean(school, subject, grade, kind, day) -> dict:
    errors = {}
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = "请填写学科。"
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = f"学科名称最多 {SUBJECT_MAX} 个字。"
    if grade is None:
        errors["grade"] = "请选择年级。"
    elif grade not in school.grades():
        errors["grade"] = f"本校（{school.get_stage_display()}）没有{grade}年级。"
    if kind not in K.values:
        errors["kind"] = "请选择考试类型。"
    if day is None:
        errors["date"] = "请填写考试日期。"
    if errors:
        raise ValidationError(errors)
    return {"subject": subject}


def _no_pause(point: str):
    """A hook for the concurrency tests (tests/governance/test_exam_concurrency.py): they
    hold an entry here, after it has counted, to let a second one in."""


_pause = _no_pause


def exam_create(*, actor, subject, grade, kind, date, ranked=False, lock=True) -> Exam:
    """A school's manager enters an exam of their own school; refused, the rule named, when
    it breaks one. ``lock=False`` only for the test that shows the race the lock stops."""
    require(is_school_manager(actor))
    school_id = actor.school_staff.school_id
    with transaction.atomic():
        # the school's row serializes its exam entries: two managers entering the second
        # 期末 of a subject at once cannot both see one
        schools = School.objects.filter(pk=school_id)
        school = (locked(schools) if lock else schools).get()
        subject = _clean(school, subject, grade, kind, date)["subject"]
        term = term_of(school, date)
        same = 0
        if term is not None:
            same = Exam.objects.filter(
                school=school,
                grade=grade,
                subject=subject,
                kind=kind,
                date__range=(term.start, term.end),
            ).count()
        _pause("counted")
        found = problems(grade=grade, kind=kind, ranked=ranked, term=term, same_before=same)
        if found:
            field = "ranked" if ranked and len(found) == 1 else "kind"
            raise ValidationError({field: found})
        exam = Exam.objects.create(
            school=school,
            subject=subject,
            grade=grade,
            kind=kind,
            date=date,
            ranked=ranked,
            created_by=actor,
        )
        audit_record(
            actor=actor, action="governance.exam.created", obj=exam, new=snapshot(exam, FIELDS)
        )
    return exam


def exam_delete(*, actor, exam_id) -> None:
    """A school's manager removes an exam of their own school (another school's: 404 in
    the view, PermissionDenied here)."""
    require(is_school_manager(actor))
    with transaction.atomic():
        exam = locked(Exam.objects.filter(pk=exam_id)).first()
        require(exam is not None and exam.school_id == actor.school_staff.school_id)
        audit_record(
            actor=actor, action="governance.exam.deleted", obj=exam, old=snapshot(exam, FIELDS)
        )
        exam.delete()
