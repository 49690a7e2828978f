"""Pages of the district course catalogue (公益课程包), mounted at /catalogue/ (namespace
"catalogue").

- a venue's member: its packages, publish one, the orders of its packages (school names and
  pupil counts only), record each visit (送单);
- a school's principal or 教导处: the district's packages, order one (点单), its orders,
  confirm and rate each visit; the school's other staff read;
- bureau staff of 课后服务: every package with its demand, dispatch (派单) and withdraw, the
  rural register (the dispatch rule's key), the report of pupils reached per venue and per
  school (page and Excel).

The doors stay thin: parse, call one service of supply/catalogue.py, render."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from portal.access import BUREAU, ORGANISATION, SCHOOL, kind_of
from portal.params import query_id
from portal.permissions import passes
from portal.views import errors_to_form
from supply import catalogue
from supply import catalogue_selectors as sel
from supply.catalogue_forms import (
    ConfirmForm,
    LocalityForm,
    OrderForm,
    PackageForm,
    VisitForm,
    WithdrawForm,
)

ERROR_STATUS = 400


def _may_see(user) -> bool:
    """A venue's member, any school staff, bureau staff of 课后服务."""
    return catalogue.may_publish(user) or kind_of(user) == SCHOOL or catalogue.may_oversee(user)


# --- packages ------------------------------------------------------------------------------


@passes(_may_see)
def packages(request):
    term_id = query_id(request, "term")
    return render(
        request,
        "supply/catalogue_packages.html",
        {
            "rows": sel.packages_for(request.user, term_id=term_id),
            "kind": kind_of(request.user),
            "may_publish": catalogue.may_publish(request.user),
            "may_oversee": catalogue.may_oversee(request.user),
        },
    )


@passes(catalogue.may_publish)
def package_new(request):
    form = PackageForm(request.POST or None, terms=sel.term_options())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            package = catalogue.package_publish(
                actor=request.user,
                term_id=data["term"],
                title=data["title"],
                kind=data["kind"],
                grades=data["grades"],
                visits=data["visits"],
                places_per_visit=data["places_per_visit"],
                mode=data["mode"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                description=data["description"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "课程包已发布，本区学校可以点单。")
            return redirect("catalogue:package", pk=package.pk)
    status = ERROR_STATUS if form.errors else 200
    return render(request, "supply/catalogue_package_form.html", {"form": form}, status=status)


def _package_page(request, package, *, status=200, **forms):
    user = request.user
    kind = kind_of(user)
    orders = list(sel.orders_of(package, user)) if kind in (BUREAU, ORGANISATION) else None
    context = {
        "package": package,
        "orders": orders,
        # demand in visits (a visit serves one school) against the package's visits
        "needed": sum(
            catalogue.visits_needed(o.pupils, package.places_per_visit)
            for o in orders or ()
            if o.status != o.Status.WITHDRAWN
        ),
        "my_order": sel.my_order_of(package, user),
        "may_order": catalogue.may_order(user) and package.status == package.Status.PUBLISHED,
        "may_dispatch": catalogue.may_dispatch(user) and package.status == package.Status.PUBLISHED,
        "may_withdraw": catalogue.may_withdraw(user) and package.status != package.Status.WITHDRAWN,
        "order_form": forms.get("order_form") or OrderForm(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "dispatch_errors": forms.get("dispatch_errors") or [],
    }
    return render(request, "supply/catalogue_package.html", context, status=status)


@passes(_may_see)
def package(request, pk):
    return _package_page(request, sel.package_for(request.user, pk))


@passes(catalogue.may_order)
def order_new(request, pk):
    package = sel.package_for(request.user, pk)
    if request.method != "POST":
        return redirect("catalogue:package", pk=package.pk)
    form = OrderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            order = catalogue.order_place(
                actor=request.user,
                package_id=package.pk,
                pupils=data["pupils"],
                preferred_dates=data["preferred_dates"],
                note=data["note"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已点单，等待教育局派单。")
            return redirect("catalogue:order", pk=order.pk)
    return _package_page(request, package, order_form=form, status=ERROR_STATUS)


@passes(catalogue.may_dispatch)
def dispatch(request, pk):
    package = sel.package_for(request.user, pk)
    if request.method != "POST":
        return redirect("catalogue:package", pk=package.pk)
    try:
        orders = catalogue.dispatch(actor=request.user, package_id=package.pk)
    except ValidationError as exc:
        return _package_page(request, package, dispatch_errors=exc.messages, status=ERROR_STATUS)
    granted = sum(1 for o in orders if o.is_granted)
    messages.success(request, f"已派单：{len(orders)} 所学校点单，{granted} 所派到。")
    return redirect("catalogue:package", pk=package.pk)


@passes(catalogue.may_withdraw)
def withdraw(request, pk):
    package = sel.package_for(request.user, pk)
    if request.method != "POST":
        return redirect("catalogue:package", pk=package.pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            catalogue.package_withdraw(
                actor=request.user, package_id=package.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "课程包已撤下，已通知点单学校。")
            return redirect("catalogue:package", pk=package.pk)
    return _package_page(request, package, withdraw_form=form, status=ERROR_STATUS)


# --- orders and visits ---------------------------------------------------------------------


@passes(_may_see)
def orders(request):
    return render(
        request,
        "supply/catalogue_orders.html",
        {"rows": sel.orders_for(request.user), "kind": kind_of(request.user)},
    )


def _order_page(request, order, *, status=200, visit_form=None, confirm_form=None,
                confirm_id=None):  # fmt: skip
    user = request.user
    context = {
        "order": order,
        "package": order.package,
        "visits": sel.visits_of(order),
        "may_record": catalogue.may_publish(user) and order.is_granted,
        "may_confirm": catalogue.may_order(user),
        "visit_form": visit_form or VisitForm(initial={"date": timezone.localdate()}),
        "confirm_form": confirm_form or ConfirmForm(),
        "confirm_id": confirm_id,
    }
    return render(request, "supply/catalogue_order.html", context, status=status)


@passes(_may_see)
def order(request, pk):
    return _order_page(request, sel.order_for(request.user, pk))


@passes(catalogue.may_publish)
def visit_new(request, pk):
    order = sel.order_for(request.user, pk)
    if request.method != "POST":
        return redirect("catalogue:order", pk=order.pk)
    form = VisitForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            catalogue.visit_record(
                actor=request.user,
                order_id=order.pk,
                date=data["date"],
                pupils_reached=data["pupils_reached"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "送课已记录，等待学校确认评分。")
            return redirect("catalogue:order", pk=order.pk)
    return _order_page(request, order, visit_form=form, status=ERROR_STATUS)


@passes(catalogue.may_order)
def visit_confirm(request, pk):
    visit = sel.visit_for(request.user, pk)
    if request.method != "POST":
        return redirect("catalogue:order", pk=visit.order_id)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            catalogue.visit_confirm(
                actor=request.user, visit_id=visit.pk, rating=data["rating"],
                comment=data["comment"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已确认送课并评分。")
            return redirect("catalogue:order", pk=visit.order_id)
    order = sel.order_for(request.user, visit.order_id)
    return _order_page(request, order, confirm_form=form, confirm_id=visit.pk, status=ERROR_STATUS)


# --- the bureau: rural register and reports ------------------------------------------------


def _localities_page(request, *, status=200, form=None, school_id=None):
    return render(
        request,
        "supply/catalogue_localities.html",
        {"rows": sel.localities(), "form": form, "school_id": school_id,
         "may_set": catalogue.may_set_locality(request.user),
         "small": settings.CATALOGUE_SMALL_SCHOOL_PUPILS},
        status=status,
    )  # fmt: skip


@passes(catalogue.may_oversee)
def localities(request):
    return _localities_page(request)


@passes(catalogue.may_set_locality)
def locality_set(request, pk):
    school = sel.school_or_404(pk)
    if request.method != "POST":
        return redirect("catalogue:localities")
    form = LocalityForm(request.POST)
    if form.is_valid():
        try:
            catalogue.locality_set(
                actor=request.user, school_id=school.pk, rural=form.cleaned_data["rural"]
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已设置{school.name}的城乡属性。")
            return redirect("catalogue:localities")
    return _localities_page(request, form=form, school_id=school.pk, status=ERROR_STATUS)


@passes(catalogue.may_oversee)
def report(request):
    term_id = query_id(request, "term")
    return render(
        request,
        "supply/catalogue_report.html",
        {
            "terms": sel.term_choices(),
            "term_id": term_id,
            "venues": sel.reached_by_venue(term_id),
            "schools": sel.reached_by_school(term_id),
        },
    )


@passes(catalogue.may_oversee)
def report_xlsx(request):
    from supply.catalogue_exports import report_workbook

    term_id = query_id(request, "term")
    body = report_workbook(term_id)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="catalogue_report.xlsx"'
    return response
