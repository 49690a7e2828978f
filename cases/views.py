"""Pages of the case library: public browse and search, a school's submissions, review."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from cases import search, selectors, services
from cases.forms import CaseForm, ReviewForm, SearchForm
from cases.models import Case, SourceDocument
from portal.access import get_scoped_or_404
from portal.permissions import SCHOOL, bureau_required, kind_required
from portal.views import errors_to_form, messages_from

PAGE_SIZE = 20


def case_list(request):
    years = selectors.years()
    form = SearchForm(request.GET or None, years=years)
    filters = form.cleaned_data if form.is_valid() else {}
    q = filters.get("q") or ""
    results, mode = selectors.public_search(
        q=q,
        theme=filters.get("theme") or "",
        place=(filters.get("place") or "").strip(),
        year=filters.get("year"),
    )
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"case": case, "snippet": search.snippet(case.body, q) if q else case.body[:80]}
        for case in page.object_list
    ]
    return render(
        request,
        "cases/case_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "q": q,
            "mode": mode,
        },
    )


def case_detail(request, pk):
    case = get_object_or_404(
        selectors.published().select_related("source").defer("source__original"), pk=pk
    )
    related = search.related(case, selectors.published().defer(*selectors.HEAVY))
    return render(request, "cases/case_detail.html", {"case": case, "related": related})


def document_detail(request, pk):
    document = get_object_or_404(SourceDocument, pk=pk)
    cases = (
        document.cases.filter(status=Case.Status.PUBLISHED)
        .only(
            "id", "title", "position", "themes", "place", "province", "city", "district", "source"
        )
        .order_by("position")
    )
    return render(request, "cases/document_detail.html", {"document": document, "cases": cases})


# --- schools ---------------------------------------------------------------------------


@kind_required(SCHOOL)
def my_cases(request):
    return render(request, "cases/my_cases.html", {"cases": selectors.school_cases(request.user)})


@kind_required(SCHOOL)
def case_submit(request):
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_submit(user=request.user, **form.cleaned_data)
        except ValidationError as exc:  # the same text is already in the library
            errors_to_form(form, exc)
        else:
            messages.success(request, "案例已提交，教育局审核后会在这里看到结果。")
            return redirect("cases:mine")
    return render(request, "cases/case_form.html", {"form": form, "case": None})


@kind_required(SCHOOL)
def case_edit(request, pk):
    case = get_scoped_or_404(Case.objects.all(), request.user, pk=pk)
    if case.status != Case.Status.RETURNED:
        messages.error(request, "只有被退回的案例可以修改。")
        return redirect("cases:mine")
    initial = {"title": case.title, "themes": case.themes, "body": case.body}
    form = CaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_resubmit(user=request.user, case_id=case.pk, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):  # the same text is already in the library
                errors_to_form(form, exc)
                return render(request, "cases/case_form.html", {"form": form, "case": case})
            messages_from(request, exc)  # reviewed meanwhile
        else:
            messages.success(request, "案例已修改并重新提交。")
        return redirect("cases:mine")
    return render(request, "cases/case_form.html", {"form": form, "case": case})


# --- bureau review -----------------------------------------------------------------------


# bureau staff of the case library who may review (services.REVIEW_PERM)
reviewer_required = bureau_required(line="cases", perm=services.REVIEW_PERM)


@reviewer_required
def review_list(request):
    cases = (
        Case.objects.filter(status__in=[Case.Status.SUBMITTED, Case.Status.SELECTED])
        .select_related("school")
        .defer(*selectors.HEAVY)
        .order_by("status", "updated_at")
    )
    return render(request, "cases/review_list.html", {"cases": cases})


@reviewer_required
def review_case(request, pk):
    case = get_object_or_404(Case.objects.select_related("school"), pk=pk, source=None)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_review(actor=request.user, case_id=case.pk, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已处理：{case.title}")
            return redirect(reverse("cases:review_list"))
    return render(request, "cases/review_case.html", {"case": case, "form": form})
