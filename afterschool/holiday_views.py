"""Holiday care's pages (/holiday/): parents choose weeks, the bureau designates host sites.

Views parse (a form), call one service of afterschool/holiday.py, render; a refusal goes
onto the form (or, for the buttons of a list, into a message on the next page).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from afterschool import enrolment as engine
from afterschool import holiday, holiday_selectors
from afterschool.holiday_forms import CloseForm, EnrolForm, HostForm
from afterschool.holiday_models import HostSite
from afterschool.models import Enrolment
from portal import params
from portal.permissions import PARENT, bureau_required, kind_required
from portal.views import errors_to_form, messages_from

for_bureau = bureau_required(line="afterschool", perm=holiday.DECIDE_PERM)


# --- parents ----------------------------------------------------------------------------------


@kind_required(PARENT)
def weeks(request):
    """For each child: the host sites serving the child's school, their weeks and places."""
    rows = holiday_selectors.parent_weeks(request.user, timezone.localdate())
    return render(request, "afterschool/holiday_weeks.html", {"rows": rows})


@require_POST
@kind_required(PARENT)
def enrol(request):
    form = EnrolForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择孩子和托管周。")
        return redirect("holiday:weeks")
    try:
        e = holiday.enrol_week(
            user=request.user,
            child_id=form.cleaned_data["child"],
            offering_id=form.cleaned_data["offering"],
        )
    except engine.AlreadyEnrolled as exc:
        messages.info(request, exc.messages[0])
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        if e.status == Enrolment.Status.WAITING:
            messages.warning(
                request,
                f"该周名额已满，{e.child.name}已进入候补，第 {e.position} 位；"
                "有名额空出时按报名先后递补，候补期间不收费。",
            )
        else:
            bill = e.bill  # as the engine left it under the course's lock: no query
            due = f"已生成账单 {bill.amount} 元，请在“缴费”中支付。" if bill and bill.amount else ""
            messages.success(request, f"{e.child.name}已报名“{e.offering.name}”。{due}")
    return redirect("holiday:weeks")


@require_POST
@kind_required(PARENT)
def withdraw(request, pk):
    try:
        e = holiday.withdraw_week(user=request.user, enrolment_id=pk)
    except ValidationError as exc:
        messages_from(request, exc)
    except Enrolment.DoesNotExist:
        messages.error(request, "没有这条报名。")
    else:
        messages.success(request, f"已退出“{e.offering.name}”。")
    return redirect("holiday:weeks")


# --- bureau -----------------------------------------------------------------------------------


@for_bureau
def hosts(request):
    """Places offered / taken / waiting by host site and week, for a vacation."""
    vacation_ids = [str(pk) for pk in holiday_selectors.vacations().values_list("pk", flat=True)]
    chosen = params.query_choice(request, "vacation", ["", *vacation_ids], default="")
    rows = holiday_selectors.places_table(int(chosen) if chosen else None)
    host_rows = (
        HostSite.objects.select_related("site", "vacation")
        .prefetch_related("served_schools")
        .order_by("-vacation__start", "site__name")
    )
    if chosen:
        host_rows = host_rows.filter(vacation_id=int(chosen))
    return render(
        request,
        "afterschool/holiday_hosts.html",
        {
            "rows": rows,
            "hosts": host_rows,
            "vacations": holiday_selectors.vacations(),
            "chosen": chosen,
            "offered": sum(r["offered"] for r in rows),
            "taken": sum(r["taken"] for r in rows),
            "waiting": sum(r["waiting"] for r in rows),
        },
    )


@for_bureau
def host_new(request):
    form = HostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            host = holiday.host_designate(actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已指定{host.site.name}为{host.vacation.name}托管点。")
            return redirect("holiday:host", pk=host.pk)
    return render(request, "afterschool/holiday_host_form.html", {"form": form})


@for_bureau
def host(request, pk):
    host = get_object_or_404(
        HostSite.objects.select_related("site", "vacation").prefetch_related("served_schools"),
        pk=pk,
    )
    rows = [r for r in holiday_selectors.places_table(host.vacation_id) if r["host"].pk == host.pk]
    return render(
        request,
        "afterschool/holiday_host.html",
        {"host": host, "rows": rows, "close_form": CloseForm()},
    )


@require_POST
@for_bureau
def host_open(request, pk):
    host = get_object_or_404(HostSite, pk=pk)
    try:
        host = holiday.host_open(actor=request.user, host_id=host.pk)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"托管点已开放，共 {host.blocks.count()} 个托管周。")
        for note in getattr(host, "notes", []):
            messages.info(request, note)
    return redirect("holiday:host", pk=pk)


@require_POST
@for_bureau
def host_close(request, pk):
    host = get_object_or_404(HostSite, pk=pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            holiday.host_close(actor=request.user, host_id=host.pk, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "托管点已关闭，未开始的托管周停止报名。")
            return redirect("holiday:host", pk=pk)
    rows = [r for r in holiday_selectors.places_table(host.vacation_id) if r["host"].pk == host.pk]
    return render(
        request,
        "afterschool/holiday_host.html",
        {"host": host, "rows": rows, "close_form": form},
    )
