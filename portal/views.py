"""Pages of the shared core: home, the role switchboard, a school's and a parent's own view."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal import selectors
from portal.access import BUREAU, PARENT, SCHOOL, get_scoped_or_404, kind_of
from portal.models import Child, SchoolClass
from portal.permissions import is_school_manager, kind_required


def errors_to_form(form, exc):
    """A service's ValidationError onto the form that sent it, each message on its field
    (a field the form lacks: on the form), so the page shows it beside what was typed."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def messages_from(request, exc):
    """Each message of a refused action as an error message on the next page."""
    from django.contrib import messages

    for msg in getattr(exc, "messages", [str(exc)]):
        messages.error(request, msg)


def home(request):
    return render(request, "portal/home.html")


@login_required
def me(request):
    """Where a user lands after login: each kind of user to their own part of the portal."""
    kind = kind_of(request.user)
    if kind == BUREAU:
        return redirect("dashboard:index")  # what staff open first every morning
    if kind == SCHOOL:
        return redirect("portal:school_home")
    if kind == PARENT:
        return redirect("portal:parent_home")
    from portal.access import EXPERT, INSTITUTION, ORGANISATION, SITE

    if kind == INSTITUTION:
        return redirect("org:home")  # a training institution's staff: 机构工作台
    if kind == SITE:
        return redirect("sites:mine")  # a community site's operator: 本托管点
    if kind == ORGANISATION:
        return redirect("calls:org_home")  # a provider's or venue's member: 我的申报 and links
    if kind == EXPERT:
        return redirect("calls:expert_home")  # 评审任务
    raise PermissionDenied


@kind_required(SCHOOL)
def school_home(request):
    user = request.user
    return render(
        request,
        "portal/school_home.html",
        {
            "school": selectors.school_of(user),
            "me_staff": user.school_staff,
            "classes": selectors.classes_for(user),
            "staff": selectors.staff_for(user),
            "finding_counts": selectors.finding_counts_for(user),
        },
    )


@kind_required(SCHOOL)
def school_class_detail(request, pk):
    school_class = get_scoped_or_404(
        SchoolClass.objects.select_related("school", "head_teacher"), request.user, pk=pk
    )
    pupils = school_class.children.order_by("name")
    return render(
        request,
        "portal/school_class.html",
        {"school_class": school_class, "pupils": pupils},
    )


@kind_required(SCHOOL)
def school_findings(request):
    from portal import findings

    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "portal/school_findings.html",
        {
            "findings": findings.in_reading_order(
                selectors.findings_for(request.user, open_only=not show_all)
            ),
            "show_all": show_all,
        },
    )


@kind_required(SCHOOL)
def finding_detail(request, pk):
    """A finding of the school; one the bureau assigned to it is answered here (整改), with
    evidence files. A refused answer re-renders with what was typed and stores nothing."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from portal import findings

    finding = selectors.findings_for(request.user, open_only=False).filter(pk=pk).first()
    if finding is None:
        raise Http404
    if request.method == "POST":
        try:
            findings.finding_answer(actor=request.user, finding_id=finding.pk,
                                    answer=request.POST.get("answer", ""),
                                    files=request.FILES.getlist("files"))  # fmt: skip
            messages.success(request, "整改情况已反馈给教育局。")
            return redirect("portal:finding_detail", pk=finding.pk)
        except ValidationError as exc:  # a refused user (a teacher): 403, nothing written
            messages_from(request, exc)
    return render(request, "portal/finding_detail.html", {
        "finding": finding, "steps": finding.steps.select_related("by"),
        "evidence": finding.evidence.all(), "post": request.POST,
        "can_answer": finding.assigned_school_id is not None
        and is_school_manager(request.user, finding.assigned_school_id),
    })  # fmt: skip


@kind_required(SCHOOL, BUREAU)
def evidence_file(request, pk):
    """An evidence file, to users who may see its finding (404 for anyone else: another
    school cannot learn it exists). Always a download, never rendered in the page."""
    from django.http import FileResponse

    from portal import evidence

    item = evidence.evidence_for(request.user, pk)
    if item is None:
        raise Http404
    try:
        handle = evidence.open_file(item)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=item.name,
        content_type=evidence.MIME[item.kind],
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@kind_required(PARENT)
def parent_home(request):
    return render(
        request,
        "portal/parent_home.html",
        {
            "parent": request.user.parent,
            "children": selectors.children_for(request.user),
            "notices": request.user.notices.all()[:10],
        },
    )


@kind_required(PARENT)
def child_detail(request, pk):
    child = get_scoped_or_404(
        Child.objects.select_related("school", "school_class__head_teacher"), request.user, pk=pk
    )
    return render(request, "portal/child_detail.html", {"child": child})


def language(request):
    from django.utils.http import url_has_allowed_host_and_scheme

    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return render(request, "portal/language.html", {"next": next_url})


def ping(request):
    """The smallest Django view: the baseline the load benchmarks compare pages against."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def healthz(request):
    """For the smoke test and load balancers: the database and Redis answer."""
    from django.core.cache import cache

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    cache.set("portal:healthz", "ok", 10)
    # the broker is a Redis apart from the cache's (portal/cache_redis.py): ask it too
    from portal.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1)
    return JsonResponse({"database": "ok", "redis": cache.get("portal:healthz"), "broker": "ok"})


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
