"""POST cases of complaints (tests/post_routes): the public form, the staff's steps, the
audited showing of the complainant's contact, and a school's answer."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions import complaints
from institutions.complaint_models import Complaint
from portal.models import AuditLog
from tests.institutions.complaint_helpers import PNG, next_year_known
from tests.post_routes import Case, case, staff_of

# staff pages: anonymous → login; a school, bureau staff of another line → 403
STAFF_REFUSED = ("anonymous", "school", "bureau_homework", "staff_without_group")
C = Complaint.Category


def _png():
    return {"files": [SimpleUploadedFile("现场.png", PNG, content_type="image/png")]}


def _text_file():
    return {"files": [SimpleUploadedFile("现场.png", b"not an image", content_type="image/png")]}


def _status(pk):
    return lambda: Complaint.objects.values_list("status", "assigned_school_id").get(pk=pk)


def _training_complaint(w, *, accepted=False):
    next_year_known()
    staff = staff_of("校外培训", "xiaowai")
    c, _code = complaints.complaint_file(
        category=C.OVERTIME, institution_name="无证补习班", text="晚上十点还在上课",
        contact_name="张三", contact_phone="13812345678",
    )  # fmt: skip
    if accepted:
        complaints.complaint_accept(actor=staff, complaint_id=c.pk)
    return staff, c


def _homework_complaint(w, *, to=None):
    """A homework complaint about school A, taken up to ``to`` (accepted/assigned/answered)."""
    next_year_known()
    c, _code = complaints.complaint_file(
        category=C.HOMEWORK, school_id=w.school_a.pk, text="每晚作业三小时"
    )
    steps = ["accepted", "assigned", "answered"]
    for step in steps[: steps.index(to) + 1] if to else []:
        if step == "accepted":
            complaints.complaint_accept(actor=w.bureau, complaint_id=c.pk)
        elif step == "assigned":
            complaints.complaint_assign(actor=w.bureau, complaint_id=c.pk, school_id=w.school_a.pk)
        else:
            complaints.complaint_answer(actor=w.principal_a, complaint_id=c.pk, answer="已减量")
    return c


@case("complaints:file", refused=())
def file(w):
    complaints.rate_clear("127.0.0.1")  # the test client's address: runs of the suite add up
    return Case(
        url=reverse("complaints:file"),
        user=None,
        valid={"category": C.HOMEWORK, "school": w.school_a.pk, "text": "每晚作业三小时"},
        files=_png,
        state=lambda: list(Complaint.objects.values_list("category", "text")),
        audit="institutions.complaint.filed",
        invalid={"category": C.HOMEWORK, "school": w.school_a.pk, "text": "每晚作业三小时"},
        invalid_files=_text_file,
        error="不是 PDF、JPG 或 PNG 文件",
        no_refused="the public complaint form: anyone may file, no account needed",
    )


@case("complaints:staff_act", "accept", refused=STAFF_REFUSED)
def accept(w):
    staff, c = _training_complaint(w)
    return Case(
        url=reverse("complaints:staff_act", args=[c.pk, "accept"]),
        user=staff,
        valid={"note": "属实，受理"},
        state=_status(c.pk),
        audit="institutions.complaint.accepted",
        invalid={"note": "长" * 2001},
        error="受理说明最多 2000 个字",
    )


@case("complaints:staff_act", "reject", refused=STAFF_REFUSED)
def reject(w):
    staff, c = _training_complaint(w)
    return Case(
        url=reverse("complaints:staff_act", args=[c.pk, "reject"]),
        user=staff,
        valid={"reason": "不属于本局管辖"},
        state=_status(c.pk),
        audit="institutions.complaint.rejected",
        invalid={"reason": ""},
        error="不予受理时请填写理由",
    )


@case("complaints:staff_act", "assign", refused=("anonymous", "school", "bureau_afterschool"))
def assign(w):
    c = _homework_complaint(w, to="accepted")
    return Case(
        url=reverse("complaints:staff_act", args=[c.pk, "assign"]),
        user=w.bureau,
        valid={"school": w.school_a.pk, "note": "请核查"},
        state=_status(c.pk),
        audit="institutions.complaint.assigned",
        invalid={"school": ""},
        error="请选择交办的学校",
    )


@case("complaints:staff_act", "answer", refused=STAFF_REFUSED)
def answer(w):
    staff, c = _training_complaint(w, accepted=True)
    return Case(
        url=reverse("complaints:staff_act", args=[c.pk, "answer"]),
        user=staff,
        valid={"answer": "已现场检查，责令停止"},
        files=_png,
        state=_status(c.pk),
        audit="institutions.complaint.answered",
        invalid={"answer": "已现场检查"},
        invalid_files=_text_file,
        error="不是 PDF、JPG 或 PNG 文件",
    )


@case("complaints:staff_act", "return", refused=("anonymous", "school", "bureau_afterschool"))
def send_back(w):
    c = _homework_complaint(w, to="answered")
    return Case(
        url=reverse("complaints:staff_act", args=[c.pk, "return"]),
        user=w.bureau,
        valid={"note": "请补充整改照片"},
        state=_status(c.pk),
        audit="institutions.complaint.returned",
        invalid={"note": ""},
        error="退回时请说明还需要做什么",
    )


@case("complaints:staff_act", "close", refused=("anonymous", "school", "bureau_afterschool"))
def close(w):
    c = _homework_complaint(w, to="answered")
    return Case(
        url=reverse("complaints:staff_act", args=[c.pk, "close"]),
        user=w.bureau,
        valid={"reply": "经核查属实，已督促学校减量。"},
        state=_status(c.pk),
        audit="institutions.complaint.closed",
        invalid={"reply": " "},
        error="办结时请填写给举报人的答复",
    )


@case("complaints:staff_contact", refused=STAFF_REFUSED)
def contact(w):
    staff, c = _training_complaint(w)
    return Case(
        url=reverse("complaints:staff_contact", args=[c.pk]),
        user=staff,
        valid={},
        state=lambda: AuditLog.objects.filter(
            action="institutions.complaint.contact_shown"
        ).count(),
        audit="institutions.complaint.contact_shown",
        no_invalid="a button without fields: the showing itself is the audited act",
    )


@case("complaints:school_detail", refused=("anonymous", "other_school", "teacher", "parent"))
def school_answer(w):
    c = _homework_complaint(w, to="assigned")
    return Case(
        url=reverse("complaints:school_detail", args=[c.pk]),
        user=w.principal_a,
        valid={"answer": "已约谈班主任，作业减量"},
        files=_png,
        state=_status(c.pk),
        audit="institutions.complaint.answered",
        invalid={"answer": ""},
        error="请填写办理情况",
    )
