"""Pages of funding oversight (经费监管), mounted at /funding/ (namespace "funding").

- Bureau staff of the after-school line: the monthly roll-up (paid per teacher, schools
  under the floor, funds unspent) with its Excel download (``index``); the per-pupil
  subsidy of a term, posted school by school (``subsidy``).
- A school's principal or 教导处: the monthly report of the subsidy paid to each teacher
  (``pay``).

The doors stay thin: parse, call one service of afterschool/funding.py, render."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from afterschool import funding, funding_exports
from afterschool import funding_selectors as selectors
from afterschool.funding_forms import PayForm, SubsidyForm
from afterschool.funding_models import TeacherPay
from portal import params
from portal.models import District, School, SchoolPeriod, SchoolStaff
from portal.permissions import bureau_required, school_manager_required
from portal.views import errors_to_form

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(request) -> dt.date:
    text = params.query_month(request, "month", default=f"{timezone.localdate():%Y-%m}")
    return dt.date(int(text[:4]), int(text[5:7]), 1)


@bureau_required(line="afterschool")
def index(request):
    districts = District.objects.order_by("code")
    district_id = params.query_id(request, "district")
    district = (district_id and districts.filter(pk=district_id).first()) or districts.first()
    if district is None:
        raise Http404("还没有区。")
    month = _month(request)
    rollup = selectors.month_rollup(district, month)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(funding_exports.rollup_xlsx(district, rollup), content_type=XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="funding-{district.code}-{month:%Y-%m}.xlsx"'
        )
        return response
    return render(
        request,
        "afterschool/funding_index.html",
        {"rollup": rollup, "district": district, "districts": districts, "month": month},
    )


@bureau_required(line="afterschool", perm="afterschool.add_subsidygrant")
def subsidy(request):
    terms = SchoolPeriod.objects.filter(kind=SchoolPeriod.Kind.TERM).select_related("district")
    term_id = params.query_id(request, "term") or params.query_id(
        request, "term", data=request.POST
    )
    term = terms.filter(pk=term_id).first() if term_id else terms.order_by("-start").first()
    form = SubsidyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = funding.subsidy_post(
                actor=request.user,
                school_id=data["school"],
                term_id=data["term"],
                pupils=data.get("pupils"),
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            if grant.replayed:
                messages.info(request, f"{grant.school.name}{grant.term.name}的财政奖补已入账。")
            else:
                messages.success(
                    request, f"{grant.school.name}{grant.term.name}财政奖补{grant.amount}元已入账。"
                )
            return redirect(f"{request.path}?term={grant.term_id}")
    rows = []
    if term is not None:
        grants = selectors.grants_of_term(term)
        schools = School.objects.filter(district_id=term.district_id).annotate(
            pupils=Count("children")
        )
        for school in schools:
            rows.append(
                {
                    "school": school,
                    "formula": funding.subsidy_formula(school.pupils),
                    "grant": grants.get(school.pk),
                }
            )
    return render(
        request,
        "afterschool/funding_subsidy.html",
        {"form": form, "term": term, "terms": terms.order_by("-start"), "rows": rows},
        status=400 if form.errors else 200,
    )


@school_manager_required
def pay(request):
    staff = request.user.school_staff
    teachers = list(SchoolStaff.objects.filter(school_id=staff.school_id).order_by("name"))
    form = PayForm(request.POST or None, teachers=teachers)
    if request.method == "POST" and form.is_valid():
        month = form.cleaned_data["month"]
        try:
            funding.teacher_pay_report(actor=request.user, month=month, amounts=form.amounts())
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"{month:%Y年%m月}的课时补助月报已保存。")
            return redirect(f"{request.path}?month={month:%Y-%m}")
    posted = getattr(form, "cleaned_data", {}).get("month") if form.is_bound else None
    month = posted if isinstance(posted, dt.date) else _month(request)
    if not form.is_bound:
        form = PayForm(initial={"month": f"{month:%Y-%m}"}, teachers=teachers)
    held = funding.lessons_held([staff.school_id], month, funding.month_end(month))
    paid = {
        p.staff_id: p for p in TeacherPay.objects.filter(school_id=staff.school_id, month=month)
    }
    floor = funding.floor()
    rows = [
        {
            "staff": t,
            "lessons": held.get((staff.school_id, t.pk, month), 0),
            "pay": paid.get(t.pk),
            "due": floor * held.get((staff.school_id, t.pk, month), 0),
            "field": form[f"amount_{t.pk}"],
        }
        for t in teachers
    ]
    return render(
        request,
        "afterschool/funding_pay.html",
        {"form": form, "rows": rows, "month": month, "floor": floor},
        status=400 if form.errors else 200,
    )
