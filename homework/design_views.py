"""Pages of the homework design library (作业设计库), mounted at /homework/designs/ (namespace
"designs").

- School staff: the library (their school's approved designs and those the bureau shared in
  their district, searched in Chinese), their own designs, submitting and re-submitting.
- The school's review group (作业审核小组): the designs awaiting review, approve or return.
- The principal: the review group's members.
- Bureau staff of the homework line: the library of every approved design, 选优推广 (share).
- The report (designs per school and subject, share of published homework drawn from
  reviewed designs): bureau staff for a district, a principal or 教导处 for their school.
Another school's unshared design is a 404. The doors stay thin: parse, call one service of
homework/designs.py, render or redirect.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from homework import design_selectors as sel
from homework import designs
from homework.design_forms import DesignForm, ReviewForm, StaffForm
from homework.design_models import HomeworkDesign
from homework.models import SUBJECTS
from portal import params
from portal.access import SCHOOL, kind_of
from portal.models import District
from portal.permissions import bureau_required, is_bureau, is_school_manager, kind_required, passes
from portal.views import errors_to_form

ERROR_STATUS = 400
S = HomeworkDesign.Status


def _reader(user) -> bool:
    return kind_of(user) == SCHOOL or is_bureau(user, "homework")


def _report_reader(user) -> bool:
    return is_school_manager(user) or is_bureau(user, "homework")


@passes(_reader)
def index(request):
    q = params.query_text(request, "q", max_length=100)
    grade = params.query_int(request, "grade", max_value=9)
    subject = params.query_choice(request, "subject", [(s, s) for s in SUBJECTS])
    shared = params.query_choice(request, "shared", [("1", "区推广")])
    rows = sel.library(request.user, grade=grade, subject=subject, shared_only=bool(shared))
    mode = ""
    if q:
        found, mode = designs.search(rows, q)
        rows = found[0:50]
    else:
        rows = rows.order_by("-approved_on", "-pk")[:50]
    return render(request, "homework/designs/index.html", {
        "rows": rows, "q": q, "grade": grade, "subject": subject or "", "shared": shared or "",
        "mode": mode, "subjects": SUBJECTS, "grades": range(1, 10),
        "is_school": kind_of(request.user) == SCHOOL,
        "is_reviewer": designs.is_reviewer(request.user),
        "is_principal": designs.is_principal(request.user),
        "may_report": _report_reader(request.user),
    })  # fmt: skip


@kind_required(SCHOOL)
def mine(request):
    return render(request, "homework/designs/list.html", {
        "title": "我提交的作业设计", "rows": sel.mine(request.user),
    })  # fmt: skip


@passes(designs.is_reviewer)
def queue(request):
    return render(request, "homework/designs/list.html", {
        "title": "待审核的作业设计", "rows": sel.queue(request.user),
    })  # fmt: skip


def _design_form_page(request, form, design=None, status=200):
    return render(
        request, "homework/designs/form.html", {"form": form, "design": design}, status=status
    )


def _submit(request, form, design=None):
    if form.is_valid():
        d = form.cleaned_data
        fields = {"grade": d["grade"], "subject": d["subject"], "unit": d["unit"],
                  "title": d["title"], "layers": form.layers()}  # fmt: skip
        try:
            if design is None:
                design = designs.design_submit(actor=request.user, **fields)
            else:
                designs.design_resubmit(actor=request.user, design_id=design.pk, **fields)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已提交，等待学校作业审核小组审核。")
            return redirect("designs:detail", pk=design.pk)
    return _design_form_page(request, form, design, status=ERROR_STATUS)


@kind_required(SCHOOL)
def new(request):
    grades = request.user.school_staff.school.grades()
    if request.method != "POST":
        return _design_form_page(request, DesignForm(grades=grades))
    return _submit(request, DesignForm(request.POST, grades=grades))


@kind_required(SCHOOL)
def resubmit(request, pk):
    design = get_object_or_404(
        sel.mine(request.user).prefetch_related("layers"), pk=pk, status=S.RETURNED
    )
    grades = request.user.school_staff.school.grades()
    if request.method != "POST":
        initial = {"title": design.title, "grade": design.grade, "subject": design.subject,
                   "unit": design.unit}  # fmt: skip
        for layer in design.layers.all():
            initial[f"{layer.level}_content"] = layer.content
            initial[f"{layer.level}_minutes"] = layer.minutes
        return _design_form_page(request, DesignForm(initial=initial, grades=grades), design)
    return _submit(request, DesignForm(request.POST, grades=grades), design)


def _detail_page(request, design, review_form=None, status=200):
    user = request.user
    staff = user.school_staff if kind_of(user) == SCHOOL else None
    may_review = (
        design.status == S.SUBMITTED and staff is not None
        and design.school_id == staff.school_id and designs.is_reviewer(user)
    )  # fmt: skip
    return render(request, "homework/designs/detail.html", {
        "d": design, "layers": design.layers.all(), "review_form": review_form or ReviewForm(),
        "may_review": may_review,
        "may_resubmit": staff is not None and design.author_id == staff.pk
        and design.status == S.RETURNED,
        "may_share": designs.may_share(user) and design.status == S.APPROVED
        and design.shared_on is None,
    }, status=status)  # fmt: skip


def _visible(request, pk):
    return get_object_or_404(sel.visible_designs(request.user), pk=pk)


@passes(_reader)
def detail(request, pk):
    return _detail_page(request, _visible(request, pk))


@passes(designs.is_reviewer)
def review(request, pk):
    design = _visible(request, pk)
    if request.method != "POST":
        return redirect("designs:detail", pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            designs.design_review(actor=request.user, design_id=design.pk,
                                  decision=form.cleaned_data["decision"],
                                  comment=form.cleaned_data["comment"])  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "审核结论已保存。")
            return redirect("designs:detail", pk=pk)
    return _detail_page(request, design, form, status=ERROR_STATUS)


@bureau_required(line="homework", perm=designs.SHARE_PERM)
def share(request, pk):
    design = _visible(request, pk)
    if request.method != "POST":
        return redirect("designs:detail", pk=pk)
    try:
        designs.design_share(actor=request.user, design_id=design.pk)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return _detail_page(request, design, status=ERROR_STATUS)
    messages.success(request, "已在全区推广。")
    return redirect("designs:detail", pk=pk)


# --- the principal: the review group ---------------------------------------------------------


def _reviewers_page(request, form, status=200):
    return render(request, "homework/designs/reviewers.html", {
        "form": form, "rows": sel.reviewers_of(request.user),
    }, status=status)  # fmt: skip


@passes(designs.is_principal)
def reviewers(request):
    return _reviewers_page(request, StaffForm(staff=sel.school_staff_of(request.user)))


def _reviewers_post(request, service, done):
    if request.method != "POST":
        return redirect("designs:reviewers")
    form = StaffForm(request.POST, staff=sel.school_staff_of(request.user))
    if form.is_valid():
        try:
            service(actor=request.user, staff_id=form.cleaned_data["staff"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, done)
            return redirect("designs:reviewers")
    return _reviewers_page(request, form, status=ERROR_STATUS)


@passes(designs.is_principal)
def reviewers_add(request):
    return _reviewers_post(request, designs.reviewer_designate, "已加入作业审核小组。")


@passes(designs.is_principal)
def reviewers_remove(request):
    return _reviewers_post(request, designs.reviewer_remove, "已移出作业审核小组。")


# --- the report ------------------------------------------------------------------------------


@passes(_report_reader)
def report(request):
    today = timezone.localdate()
    month = params.query_month(request, "month", default=today.strftime("%Y-%m"))
    year, mon = (int(x) for x in month.split("-"))
    start = dt.date(year, mon, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    if kind_of(request.user) == SCHOOL:
        school = request.user.school_staff.school
        districts, district = [], school.district
    else:
        school = None
        districts = list(District.objects.order_by("code"))
        chosen = params.query_choice(request, "district", [(str(d.pk), d.name) for d in districts])
        district = next((d for d in districts if str(d.pk) == chosen), None) or (
            districts[0] if districts else None
        )
    rows, totals = [], {"items": 0, "drawn": 0}
    if district is not None:
        schools, cells = sel.designs_by_school_subject(district.pk)
        share_of = sel.drawn_share(district.pk, start, end)
        for s in schools:
            if school is not None and s.pk != school.pk:
                continue
            subjects = [(subj, cells[(s.pk, subj)]) for subj in SUBJECTS if (s.pk, subj) in cells]
            items, drawn = share_of.get(s.pk, (0, 0))
            totals["items"] += items
            totals["drawn"] += drawn
            rows.append({"school": s, "subjects": subjects, "items": items, "drawn": drawn,
                         "share": f"{drawn / items:.0%}" if items else "—"})  # fmt: skip
    share_all = f"{totals['drawn'] / totals['items']:.0%}" if totals["items"] else "—"
    return render(request, "homework/designs/report.html", {
        "rows": rows, "month": month, "districts": districts, "district": district,
        "totals": totals, "share_all": share_all,
    })  # fmt: skip
