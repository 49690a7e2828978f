"""Pages of the shared core: home, the role switchboard, a school's and a parent's own view."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal import selectors
from portal.access import BUREAU, PARENT, SCHOOL, get_scoped_or_404, kind_of
from portal.models import Child, SchoolClass


def for_kind(kind):
    """Only users of ``kind`` (school staff, parents); others get 403, anonymous the login."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if kind_of(request.user) != kind:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


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
    raise PermissionDenied


@for_kind(SCHOOL)
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


@for_kind(SCHOOL)
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


@for_kind(SCHOOL)
def school_findings(request):
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "portal/school_findings.html",
        {
            "findings": selectors.findings_for(request.user, open_only=not show_all),
            "show_all": show_all,
        },
    )


@for_kind(SCHOOL)
def finding_detail(request, pk):
    """A finding of the school; one the bureau assigned to it is answered here (整改)."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from portal import findings

    finding = selectors.findings_for(request.user, open_only=False).filter(pk=pk).first()
    if finding is None:
        raise Http404
    if request.method == "POST":
        try:
            findings.finding_answer(actor=request.user, finding_id=finding.pk,
                                    answer=request.POST.get("answer", ""))  # fmt: skip
            messages.success(request, "整改情况已反馈给教育局。")
            return redirect("portal:finding_detail", pk=finding.pk)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        except PermissionDenied:
            messages.error(request, "只有校长或教导处可以反馈整改情况。")
    return render(request, "portal/finding_detail.html", {
        "finding": finding, "steps": finding.steps.select_related("by"),
        "post": request.POST,
    })  # fmt: skip


@for_kind(PARENT)
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


@for_kind(PARENT)
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
    return JsonResponse({"database": "ok", "redis": cache.get("portal:healthz")})


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
