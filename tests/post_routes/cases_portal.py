"""POST cases of the shared core: a school answers a finding, bureau staff handle it, anyone
marks their inbox read."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from portal import findings
from portal.models import Finding, FindingEvidence, Notice
from tests.post_routes import Case, case, staff_of


def _finding(**fields):
    today = timezone.localdate()
    data = {"rule": "afterschool.provider.review_overdue", "severity": "warning",
            "subject_key": "p:1", "subject_repr": "星火体育", "message": "星火体育年审逾期",
            "first_seen": today, "last_seen": today}  # fmt: skip
    return Finding.objects.create(**{**data, **fields})


def _workflow(pk):
    return lambda: Finding.objects.values_list("workflow", "assigned_school_id").get(pk=pk)


def _assigned(w, staff):
    f = _finding()
    findings.finding_assign(
        actor=staff, finding_id=f.pk, school_id=w.school_a.pk, note="请核查合作机构资质"
    )
    return f


@case(
    "portal:finding_detail",
    refused=("anonymous", "other_school", "parent", "teacher"),
)
def finding_answer(w):
    f = _assigned(w, staff_of("课后服务", "handler"))
    return Case(
        url=reverse("portal:finding_detail", args=[f.pk]),
        user=w.principal_a,
        valid={"answer": "已暂停该机构课程"},
        state=_workflow(f.pk),
        audit="portal.finding.answered",
        invalid={"answer": "   "},
        error="请填写整改情况",
    )


BUREAU_REFUSED = ("anonymous", "school", "parent", "staff_without_group")
# the findings here are of the after-school line: staff of another line hold
# portal.change_finding too, and are refused all the same (portal.findings.may_handle)
LINE_REFUSED = (*BUREAU_REFUSED, "bureau_cases", "bureau_homework")


@case("dashboard:finding", "assign", refused=LINE_REFUSED)
def finding_assign(w):
    f = _finding()
    return Case(
        url=reverse("dashboard:finding", args=[f.pk]),
        user=staff_of("课后服务", "handler"),
        valid={"action": "assign", "school": w.school_a.pk, "note": "请核查"},
        state=_workflow(f.pk),
        audit="portal.finding.assigned",
        invalid={"action": "assign", "school": "", "institution": "", "note": "请核查"},
        error="请选择交办的学校或培训机构（二选一）",
    )


@case("dashboard:finding", "close", refused=LINE_REFUSED)
def finding_close(w):
    staff = staff_of("课后服务", "handler")
    f = _assigned(w, staff)
    findings.finding_answer(actor=w.principal_a, finding_id=f.pk, answer="已暂停该机构课程")
    closed = _finding(subject_key="p:2", workflow=Finding.Workflow.CLOSED)
    return Case(
        url=reverse("dashboard:finding", args=[f.pk]),
        user=staff,
        valid={"action": "close", "note": "整改到位"},
        state=lambda: (_workflow(f.pk)(), _workflow(closed.pk)()),
        audit="portal.finding.closed",
        # the same form sent for a finding closed already: refused by the workflow
        invalid_url=reverse("dashboard:finding", args=[closed.pk]),
        invalid={"action": "close", "note": "再办结一次"},
        error="不能变为",
    )


@case("dashboard:finding", "return", refused=LINE_REFUSED)
def finding_return(w):
    staff = staff_of("课后服务", "handler")
    f = _assigned(w, staff)
    findings.finding_answer(actor=w.principal_a, finding_id=f.pk, answer="已暂停该机构课程")
    return Case(
        url=reverse("dashboard:finding", args=[f.pk]),
        user=staff,
        valid={"action": "return", "note": "请补充暂停的书面通知"},
        state=_workflow(f.pk),
        audit="portal.finding.returned",
        invalid={"action": "return", "note": ""},
        error="退回时请说明还需要做什么",
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _pdf():
    return {"files": SimpleUploadedFile("整改通知.pdf", PDF, "application/pdf")}


def _not_a_pdf():
    # named .pdf, sent as a PDF, but text: refused by its content
    return {"files": SimpleUploadedFile("整改通知.pdf", b"just text", "application/pdf")}


def _with_evidence(pk):
    return lambda: (_workflow(pk)(), FindingEvidence.objects.filter(finding_id=pk).count())


@case(
    "portal:finding_detail", "files",
    refused=("anonymous", "other_school", "parent", "teacher"),
)  # fmt: skip
def finding_answer_with_files(w):
    f = _assigned(w, staff_of("课后服务", "handler"))
    return Case(
        url=reverse("portal:finding_detail", args=[f.pk]),
        user=w.principal_a,
        valid={"answer": "已暂停该机构课程"},
        files=_pdf,
        state=_with_evidence(f.pk),
        audit="portal.finding.answered",
        invalid={"answer": "已暂停该机构课程"},
        invalid_files=_not_a_pdf,
        error="不是 PDF、JPG 或 PNG 文件",
    )


@case("dashboard:finding", "close_unanswered", refused=LINE_REFUSED)
def finding_close_unanswered(w):
    staff = staff_of("课后服务", "handler")
    f = _assigned(w, staff)
    return Case(
        url=reverse("dashboard:finding", args=[f.pk]),
        user=staff,
        valid={"action": "close_unanswered", "note": "学校已撤并，无法反馈"},
        state=_workflow(f.pk),
        audit="portal.finding.closed_unanswered",
        invalid={"action": "close_unanswered", "note": "  "},
        error="未反馈办结时请说明理由",
    )


@case("dashboard:finding", "answer", refused=LINE_REFUSED)
def finding_answer_for_institution(w):
    from institutions.models import Institution

    staff = staff_of("课后服务", "handler")
    inst = Institution.objects.create(
        name="星火体育培训中心", credit_code="91440100MACASES001", category="non_subject",
        mode="offline", nature="non_profit", district=w.school_a.district,
    )  # fmt: skip
    f = _finding()
    findings.finding_assign(actor=staff, finding_id=f.pk, institution_id=inst.pk)
    return Case(
        url=reverse("dashboard:finding", args=[f.pk]),
        user=staff,
        valid={"action": "answer", "answer": "机构已寄来整改报告"},
        files=_pdf,
        state=_with_evidence(f.pk),
        audit="portal.finding.answered",
        invalid={"action": "answer", "answer": "机构已寄来整改报告"},
        invalid_files=_not_a_pdf,
        error="不是 PDF、JPG 或 PNG 文件",
    )


@case("inbox", refused=("anonymous",))
def inbox(w):
    Notice.objects.create(user=w.parent_a, key="t:1", message="课程取消")
    Notice.objects.create(user=w.parent_a, key="t:2", message="调课")
    return Case(
        url=reverse("inbox"),
        user=w.parent_a,
        valid={},
        state=lambda: Notice.objects.filter(read_at__isnull=True).count(),
        unaudited="marking one's own notices read changes no record of the portal's work",
        no_invalid="a button without fields: there is nothing to get wrong",
    )
