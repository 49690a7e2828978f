"""Pages of the community sites (社区托管点), mounted at /sites/ (namespace "sites").

- Bureau staff of the 课后服务 line: the register with each site's use (courses, places
  offered and taken, attendance), a site's page (safety checks, operators, courses), new
  and edited sites, safety checks with an optional evidence file, operator accounts (the
  one-time password shown once), the evidence file itself.
- A site's operator: its own site and courses, a new course, publishing it, a course's
  roll (child's name, school and grade only) and the roll-call of a lesson through the
  engine's service (afterschool.lessons.roll_submit). Another site's anything is a 404.

The doors stay thin: parse, call one service of afterschool/sites.py, render or redirect.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from afterschool import lessons as engine
from afterschool import sites
from afterschool import sites_selectors as sel
from afterschool.models import Attendance, SiteOperator, SiteSafetyCheck
from afterschool.sites_forms import CourseForm, OperatorForm, SafetyCheckForm, SiteForm
from portal import evidence
from portal.models import School, mask_phone
from portal.permissions import bureau_required, site_required
from portal.views import errors_to_form, messages_from

ERROR_STATUS = 400
bureau = bureau_required(line="afterschool")


def _schools():
    return School.objects.select_related("district").order_by("district_id", "name")


# --- the bureau ------------------------------------------------------------------------------


@bureau
def index(request):
    today = timezone.localdate()
    rows = sel.with_state(sel.sites_with_use(), today)
    for row in rows:
        row.phone = mask_phone(row.contact_phone)
    return render(request, "afterschool/sites_index.html", {
        "rows": rows, "today": today,
        "may_manage": sites.may_manage(request.user),
        "totals": {
            "courses": sum(r.courses for r in rows), "places": sum(r.places for r in rows),
            "taken": sum(r.taken for r in rows), "shut": sum(1 for r in rows if r.problem),
        },
    })  # fmt: skip


def _site_form_page(request, form, site=None, status=200):
    return render(
        request, "afterschool/sites_form.html", {"form": form, "site": site}, status=status
    )


def _site_fields(form) -> dict:
    d = dict(form.cleaned_data)
    d["partner_school_id"] = d.pop("partner_school")
    return d


@bureau
def new(request):
    if request.method != "POST":
        return _site_form_page(request, SiteForm(schools=_schools()))
    form = SiteForm(request.POST, schools=_schools())
    if form.is_valid():
        try:
            site = sites.site_create(actor=request.user, **_site_fields(form))
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "托管点已登记。请登记安全检查后开放。")
            return redirect("sites:detail", pk=site.pk)
    return _site_form_page(request, form, status=ERROR_STATUS)


@bureau
def edit(request, pk):
    site = sel.site_detail(pk)
    if request.method != "POST":
        initial = {f: getattr(site, f) for f in sites.SITE_FIELDS}
        initial["partner_school"] = site.partner_school_id
        return _site_form_page(request, SiteForm(schools=_schools(), initial=initial), site)
    form = SiteForm(request.POST, schools=_schools())
    if form.is_valid():
        try:
            sites.site_update(actor=request.user, site_id=site.pk, **_site_fields(form))
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "托管点信息已更新。")
            return redirect("sites:detail", pk=site.pk)
    return _site_form_page(request, form, site, status=ERROR_STATUS)


def _detail_page(request, site, *, check_form=None, operator_form=None, password=None,
                 status=200):  # fmt: skip
    today = timezone.localdate()
    return render(request, "afterschool/sites_detail.html", {
        "site": site, "phone": mask_phone(site.contact_phone),
        "problem": sites.open_problem(site, today),
        "good_until": sites.check_good_until(site.safety_checked_on),
        "checks": sel.checks_of(site), "operators": sel.operators_of(site),
        "courses": sel.courses_of_site(site.pk),
        "check_form": check_form or SafetyCheckForm(),
        "operator_form": operator_form or OperatorForm(),
        "password": password, "may_manage": sites.may_manage(request.user),
    }, status=status)  # fmt: skip


@bureau
def detail(request, pk):
    return _detail_page(request, sel.site_detail(pk))


@bureau
def check(request, pk):
    site = sel.site_detail(pk)
    if request.method != "POST":
        return redirect("sites:detail", pk=site.pk)
    form = SafetyCheckForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            sites.safety_check_record(
                actor=request.user, site_id=site.pk, checked_on=d["checked_on"],
                checked_by=d["checked_by"], note=d["note"],
                files=request.FILES.getlist("files"),
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "安全检查已登记。")
            return redirect("sites:detail", pk=site.pk)
    return _detail_page(request, site, check_form=form, status=ERROR_STATUS)


@bureau
def operator_new(request, pk):
    site = sel.site_detail(pk)
    if request.method != "POST":
        return redirect("sites:detail", pk=site.pk)
    form = OperatorForm(request.POST)
    if form.is_valid():
        try:
            operator, password = sites.operator_create(
                actor=request.user, site_id=site.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            # the one-time password: on this answer only, never again
            response = _detail_page(
                request, site, password={"username": operator.user.username,
                                         "password": password}
            )  # fmt: skip
            response["Cache-Control"] = "no-store"
            return response
    return _detail_page(request, site, operator_form=form, status=ERROR_STATUS)


@bureau
def operator_deactivate(request, pk):
    operator = get_object_or_404(SiteOperator, pk=pk)
    if request.method == "POST":
        try:
            sites.operator_deactivate(actor=request.user, operator_id=operator.pk)
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, f"已停用{operator.name}的账号。")
    return redirect("sites:detail", pk=operator.site_id)


@bureau
def active(request, pk):
    site = sel.site_detail(pk)
    if request.method == "POST":
        on = request.POST.get("active") == "1"
        try:
            sites.site_set_active(actor=request.user, site_id=site.pk, active=on)
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, "托管点已启用。" if on else "托管点已停用，其课程暂停开放。")
    return redirect("sites:detail", pk=site.pk)


@bureau
def check_file(request, pk):
    row = get_object_or_404(SiteSafetyCheck, pk=pk)
    if not row.file_path:
        raise Http404
    response = FileResponse(
        evidence.storage().open(row.file_path, "rb"), content_type=evidence.MIME[row.file_kind]
    )
    response["Content-Disposition"] = f'inline; filename="check-{row.pk}.{row.file_kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the operator ----------------------------------------------------------------------------


@site_required
def mine(request):
    site = sel.my_site(request.user)
    today = timezone.localdate()
    return render(request, "afterschool/sites_mine.html", {
        "site": site, "problem": sites.open_problem(site, today),
        "good_until": sites.check_good_until(site.safety_checked_on),
        "courses": sel.courses_of_site(site.pk), "plan": sites.current_plan(site, today),
    })  # fmt: skip


@site_required
def course_new(request):
    site = sel.my_site(request.user)
    items = list(sites.plan_items(site))
    people = list(sites.assignable_people(site))
    if request.method != "POST":
        return render(request, "afterschool/sites_course_form.html",
                      {"form": CourseForm(items=items, people=people), "site": site})  # fmt: skip
    form = CourseForm(request.POST, items=items, people=people)
    if form.is_valid():
        d = dict(form.cleaned_data)
        d["plan_item"] = next((i for i in items if i.pk == d["plan_item"]), None)
        d["people"] = [p for p in people if p.pk in d["people"]]
        try:
            offering = sites.course_create(actor=request.user, **d)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "课程已保存为草稿，开放报名后家长即可报名。")
            return redirect("sites:course", pk=offering.pk)
    return render(request, "afterschool/sites_course_form.html",
                  {"form": form, "site": site}, status=ERROR_STATUS)  # fmt: skip


@site_required
def course(request, pk):
    offering = sel.my_course(request.user, pk)
    return render(request, "afterschool/sites_course.html", {
        "o": offering, "roll": sel.roll_of(offering), "lessons": sel.lessons_of(offering),
        "now": engine.local_now(),
    })  # fmt: skip


@site_required
def course_publish(request, pk):
    offering = sel.my_course(request.user, pk)
    if request.method == "POST":
        try:
            published = sites.course_publish(actor=request.user, offering_id=offering.pk)
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            note = getattr(published, "lessons_note", "")
            messages.success(request, "课程已开放报名，课次已生成。" + (note or ""))
    return redirect("sites:course", pk=offering.pk)


@site_required
def roll(request, pk):
    lesson = sel.my_lesson(request.user, pk)
    children = list(engine.roll_children(lesson))
    if request.method == "POST":
        marks = {e.child_id: request.POST.get(f"mark_{e.child_id}", "") for e in children}
        try:
            engine.roll_submit(user=request.user, lesson_id=lesson.pk, marks=marks)
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, "点名已提交。")
            return redirect("sites:course", pk=lesson.offering_id)
        status = ERROR_STATUS
    else:
        status = 200
    marks = {a.child_id: a.get_mark_display() for a in lesson.attendance.all()}
    rows = [{"child": e.child, "mark": marks.get(e.child_id)} for e in children]
    return render(request, "afterschool/sites_roll.html", {
        "lesson": lesson, "rows": rows, "choices": Attendance.Mark.choices,
        "open": engine.roll_open(lesson),
    }, status=status)  # fmt: skip
