"""Pages of the institution's side (机构端, /org/, namespace "org") and the bureau's queues.

- The institution's staff: its home page (机构工作台), its courses filed for the bureau's
  approval (管理员 and 教务), its staff (管理员). Another institution's row: 404.
- Public, no account: the request for a first account, from the institution's public page.
- Bureau staff of the training line (校外培训): the accounts queue (requests, and creating an
  institution's 管理员 directly), the queue of course filings.

A new account's one-time password is on the page that answers the POST, once (never_cache:
no copy in a cache or the back button); nothing keeps it.
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from institutions import accounts, org_selectors, services
from institutions.account_models import AccountRequest, InstitutionStaff
from institutions.course_views import WEEKDAYS, CourseForm
from institutions.models import Course, Institution
from institutions.org_forms import (
    AccountNewForm,
    AccountRequestForm,
    FilingDecideForm,
    PasswordForm,
    RequestDecideForm,
    StaffAddForm,
)
from portal import params, ratelimit
from portal.access import client_ip, get_scoped_or_404
from portal.permissions import bureau_required, institution_required
from portal.views import errors_to_form, messages_from

# bureau staff of the training line who may change the register (the course pages' rule)
bureau_training = bureau_required(line="institutions", perm="institutions.change_institution")
ADMIN, DESK = InstitutionStaff.Role.ADMIN, InstitutionStaff.Role.DESK


@institution_required()
def home(request):
    context = org_selectors.home(request.user)
    context["panels"] = org_selectors.panels(request.user, context["institution"])
    return render(request, "institutions/org/home.html", context)


# --- staff ---------------------------------------------------------------------------------


@never_cache
@institution_required(ADMIN)
def staff(request):
    form = StaffAddForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = accounts.staff_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            form = StaffAddForm()
    return render(
        request,
        "institutions/org/staff.html",
        {"form": form, "rows": org_selectors.staff_for(request.user), "created": created,
         "me_staff": request.user.institution_staff},
    )  # fmt: skip


@institution_required(ADMIN)
def staff_deactivate(request, pk):
    if request.method != "POST":
        return redirect("org:staff")
    row = get_scoped_or_404(InstitutionStaff.objects.all(), request.user, pk=pk)
    try:
        accounts.staff_deactivate(actor=request.user, staff_id=row.pk)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"已停用{row.name}的账号。")
    return redirect("org:staff")


@never_cache
@institution_required()
def password(request):
    """Change one's own password (the one-time initial password first)."""
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accounts.password_change(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            update_session_auth_hash(request, user)  # stay logged in with the new password
            messages.success(request, "密码已修改。")
            return redirect("org:home")
    return render(request, "institutions/org/password.html", {"form": form})


# --- courses -------------------------------------------------------------------------------


@institution_required()
def courses(request):
    return render(
        request,
        "institutions/org/courses.html",
        {"rows": org_selectors.courses_for(request.user),
         "may_file": request.user.institution_staff.role in (ADMIN, DESK),
         "refusal": accounts.selling_refusal(org_selectors.institution_of(request.user))},
    )  # fmt: skip


def _course_page(request, course=None):
    if course is None:
        initial = {"mode": org_selectors.institution_of(request.user).mode}
    else:
        initial = {f: getattr(course, f) for f in services.FILING_FIELDS}
        initial["slots"] = "\n".join(
            f"周{WEEKDAYS[s.weekday]} {s.start:%H:%M}-{s.end:%H:%M}" for s in course.slots.all()
        )
    form = CourseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        slots = data.pop("slots")
        try:
            saved = services.course_file(
                actor=request.user, course_id=course.pk if course else None, slots=slots,
                submit="draft" not in request.POST, **data,
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(
                request,
                "已提交备案，等待教育局审核。" if saved.filing == Course.Filing.SUBMITTED
                else f"课程已保存（{saved.get_filing_display()}）。",
            )  # fmt: skip
            return redirect("org:courses")
    return render(request, "institutions/org/course_form.html", {"form": form, "course": course})


@institution_required(ADMIN, DESK)
def course_new(request):
    return _course_page(request)


@institution_required(ADMIN, DESK)
def course_edit(request, pk):
    course = get_scoped_or_404(Course.objects.prefetch_related("slots"), request.user, pk=pk)
    return _course_page(request, course)


# --- public: the request for an account ----------------------------------------------------


def request_account(request, pk):
    """申请机构账号, linked from the institution's public page; no account needed."""
    institution = get_object_or_404(Institution.objects.only("pk", "name"), pk=pk)
    form = AccountRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        address = client_ip(request)
        if not accounts.rate_take(address):
            response = render(request, "429.html", {"what": "申请"}, status=429)
            response["Retry-After"] = str(ratelimit.WINDOW)
            return response
        filed = None
        if form.trapped:
            form.add_error(None, "提交未成功，请刷新页面后重新填写。")
        elif form.is_valid():
            data = form.cleaned_data
            try:
                filed = accounts.account_request_file(
                    institution_id=institution.pk, contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"], note=data["note"],
                )  # fmt: skip
            except ValidationError as exc:
                errors_to_form(form, exc)
        if filed is not None:
            return render(
                request, "institutions/org/request_done.html",
                {"institution": institution, "filed": filed},
            )  # fmt: skip
        accounts.rate_release(address)
        status = 400
    return render(
        request, "institutions/org/request.html",
        {"form": form, "institution": institution}, status=status,
    )  # fmt: skip


# --- the bureau ----------------------------------------------------------------------------


@bureau_training
def accounts_queue(request):
    q = params.query_text(request, "q", max_length=50)
    return render(
        request,
        "institutions/org/accounts.html",
        {"requests": org_selectors.open_requests(), "recent": org_selectors.recent_requests(),
         "q": q, "found": org_selectors.institutions_for_accounts(q) if q else None,
         "decide_form": RequestDecideForm()},
    )  # fmt: skip


@never_cache
@bureau_training
def account_new(request, pk):
    institution = get_object_or_404(Institution.objects.only("pk", "name"), pk=pk)
    form = AccountNewForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = accounts.institution_admin_create(
                actor=request.user, institution_id=institution.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
    return render(
        request, "institutions/org/account_new.html",
        {"form": form, "institution": institution, "created": created},
    )  # fmt: skip


@never_cache
@bureau_training
def request_decide(request, pk):
    row = get_object_or_404(AccountRequest.objects.select_related("institution"), pk=pk)
    form = RequestDecideForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row, password = accounts.account_request_decide(
                actor=request.user, request_id=row.pk,
                approve=data["decision"] == "approve", username=data["username"],
                name=data["name"], reason=data["reason"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            if password is None:
                messages.success(request, "已处理：不予开通。")
                return redirect("org:accounts")
            created = (row.staff, password)
    return render(
        request, "institutions/org/request_decide.html",
        {"form": form, "row": row, "created": created},
    )  # fmt: skip


@bureau_training
def filings(request):
    return render(request, "institutions/org/filings.html", {"rows": org_selectors.filings()})


@bureau_training
def filing_decide(request, pk):
    try:
        course = org_selectors.filing(pk)
    except Course.DoesNotExist:
        raise Http404 from None
    form = FilingDecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.course_filing_decide(
                actor=request.user, course_id=course.pk, approve=approve,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已通过备案。" if approve else "已退回。")
            return redirect("org:filings")
    cap = services.price_cap(
        class_size=course.class_size, lesson_minutes=course.lesson_minutes, mode=course.mode
    )
    return render(
        request, "institutions/org/filing_decide.html",
        {"form": form, "course": course, "cap": cap},
    )  # fmt: skip
