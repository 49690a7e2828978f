"""Pages of the public call for providers (公开征集), mounted at /calls/ (namespace "calls").

- Everyone: the calls (``index``), one call with its criteria and tie rule (``detail``), a
  published result (``result``: the admitted with their scores, no expert names), and the
  organisation registration (``register``).
- An organisation's members: apply while the call is open (``apply``), their own
  applications (scores only once the result is published); its 管理员 keeps its members.
- Experts: the applications of the calls they are assigned to (others 404); they declare a
  conflict of interest or score; they see only their own scores until every score is in.
- Bureau staff of 课后服务: open a call, assign experts, see the ranking, admit the top N;
  the organisations and the expert pool.

The doors stay thin: parse, call one service of supply/calls.py or supply/organisations.py,
render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal import evidence, ratelimit
from portal.access import client_ip
from portal.models import mask_phone
from portal.permissions import (
    bureau_required,
    expert_required,
    is_bureau,
    is_organisation_member,
    organisation_required,
    passes,
)
from portal.views import errors_to_form, messages_from
from supply import call_selectors as selectors
from supply import calls, organisations
from supply.account_models import OrganisationMember
from supply.call_forms import (
    AdmitForm,
    ApplyForm,
    AssignForm,
    CallForm,
    ExpertForm,
    MemberForm,
    PasswordForm,
    ReasonForm,
    RegisterForm,
    ScoreForm,
)

ERROR_STATUS = 400
LINE = "supply"
ADMIN = OrganisationMember.Role.ADMIN


def _status(form):
    return ERROR_STATUS if form.errors else 200


# --- public --------------------------------------------------------------------------------


def index(request):
    return render(request, "supply/call_index.html", {"calls": selectors.public_calls()})


def detail(request, pk):
    call = selectors.public_call(pk)
    member = is_organisation_member(request.user)
    return render(
        request,
        "supply/call_detail.html",
        {
            "call": call,
            "criteria": call.criteria.all(),
            "is_member": member,
            "applied": member and selectors.has_applied(request.user, call),
        },
    )


def result(request, pk):
    call = selectors.published_call(pk)
    return render(
        request,
        "supply/call_result.html",
        {"call": call, "criteria": call.criteria.all(), "rows": selectors.result_rows(call)},
    )


@never_cache
def register(request):
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = client_ip(request)
        if not organisations.rate_take(address):
            response = render(request, "429.html", status=429)
            response["Retry-After"] = str(ratelimit.WINDOW)
            return response
        try:
            organisation, _member = organisations.organisation_register(**form.cleaned_data)
        except ValidationError as exc:
            # a refused registration keeps its slot: its refusals say which usernames and
            # credit codes are taken, and must not be asked for without limit
            errors_to_form(form, exc)
        else:
            messages.success(request, f"“{organisation.name}”已注册，请用登录账号登录。")
            return redirect("login")
    return render(request, "supply/org_register.html", {"form": form}, status=_status(form))


# --- the organisation ----------------------------------------------------------------------


@organisation_required()
def apply(request, pk):
    call = selectors.public_call(pk)
    form = ApplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = calls.application_submit(
                actor=request.user,
                call_id=call.pk,
                service_items=data["service_items"],
                plan=data["plan"],
                price_per_lesson=data["price_per_lesson"],
                outside_price=data["outside_price"],
                files=request.FILES.getlist("files"),
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "申报已提交。")
            return redirect("calls:org_application", pk=application.pk)
    return render(
        request, "supply/call_apply.html", {"call": call, "form": form}, status=_status(form)
    )


@organisation_required()
def org_home(request):
    member = request.user.organisation_member
    return render(
        request,
        "supply/org_home.html",
        {
            "member": member,
            "organisation": member.organisation,
            "applications": selectors.own_applications(request.user),
            "calls": selectors.public_calls().filter(status="open"),
        },
    )


@organisation_required()
def org_application(request, pk):
    application = selectors.own_application(request.user, pk)
    published = application.call.status == "published"
    return render(
        request,
        "supply/call_org_application.html",
        {
            "a": application,
            "published": published,
            "criteria": application.call.criteria.all(),
            "documents": selectors.documents(request.user, application),
        },
    )


@organisation_required(ADMIN)
def org_members(request):
    member = request.user.organisation_member
    form = MemberForm(request.POST or None)
    password = None
    if request.method == "POST" and form.is_valid():
        try:
            added, password = organisations.member_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            form = MemberForm()
            messages.success(request, f"已添加“{added.name}”（{added.user.username}）。")
    response = render(
        request,
        "supply/org_members.html",
        {"form": form, "members": selectors.members(member.organisation_id),
         "password": password, "me": member},
        status=_status(form),
    )  # fmt: skip
    response["Cache-Control"] = "no-store"  # the one-time password is on this page
    return response


@require_POST
@organisation_required(ADMIN)
def org_member_deactivate(request, pk):
    try:
        organisations.member_deactivate(actor=request.user, member_id=pk)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, "已停用。")
    return redirect("calls:org_members")


# --- experts -------------------------------------------------------------------------------


@expert_required
def expert_home(request):
    return render(
        request,
        "supply/call_expert_home.html",
        {"applications": selectors.assigned_applications(request.user)},
    )


@expert_required
def expert_application(request, pk):
    application = selectors.assigned_application(request.user, pk)
    expert = request.user.expert
    call = application.call
    criteria = list(call.criteria.all())
    mine = selectors.my_scores(expert, application)
    form = ScoreForm(
        request.POST or None,
        criteria=criteria,
        initial={f"c{k}": v for k, v in mine.items()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            calls.score_save(
                actor=request.user, application_id=application.pk, values=form.cleaned_data
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "评分已保存。")
            return redirect("calls:expert_application", pk=application.pk)
    # the panel's scores only once every score is in: before, each expert sees their own
    rows = calls.ranking(call)
    complete = not any(r.missing for r in rows)
    panel_row = next((r for r in rows if r.application.pk == application.pk), None)
    return render(
        request,
        "supply/call_expert_application.html",
        {
            "a": application,
            "call": call,
            "criteria": criteria,
            "form": form,
            "mine": {c.name: mine.get(c.pk) for c in criteria},
            "conflict": selectors.my_conflict(expert, application),
            "conflict_form": ReasonForm(),
            "complete": complete,
            "panel_row": panel_row if complete else None,
            "documents": selectors.documents(request.user, application),
        },
        status=_status(form),
    )


@require_POST
@expert_required
def expert_conflict(request, pk):
    application = selectors.assigned_application(request.user, pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        calls.conflict_declare(
            actor=request.user,
            application_id=application.pk,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, "已申报回避：您对该申报的评分不计入结果。")
    return redirect("calls:expert_application", pk=application.pk)


# --- documents -----------------------------------------------------------------------------


@passes(lambda u: is_bureau(u, LINE) or is_organisation_member(u) or _is_expert(u))
def document(request, pk):
    doc = selectors.document(request.user, pk)
    response = FileResponse(
        evidence.storage().open(doc.path, "rb"),
        content_type=evidence.MIME.get(doc.kind, "application/octet-stream"),
        as_attachment=True,
        filename=doc.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _is_expert(user):
    from portal.permissions import is_expert

    return is_expert(user)


# --- the bureau ----------------------------------------------------------------------------


@bureau_required(line=LINE)
def bureau_calls(request):
    return render(
        request, "supply/call_bureau_list.html", {"calls": selectors.bureau_calls(request.user)}
    )


@bureau_required(line=LINE, perm="supply.add_call")
def call_new(request):
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            call = calls.call_open(
                actor=request.user,
                title=data["title"],
                service_kinds=data["service_kinds"],
                description=data["description"],
                deadline=data["deadline"],
                criteria=calls.parse_criteria(data["criteria"]),
                tie_criterion=data["tie_criterion"],
                admit_count=data["admit_count"] or 0,
                service_start=data["service_start"],
                service_end=data["service_end"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "征集已发布。")
            return redirect("calls:call_manage", pk=call.pk)
    return render(request, "supply/call_new.html", {"form": form}, status=_status(form))


@bureau_required(line=LINE)
def call_manage(request, pk):
    call = selectors.bureau_call(request.user, pk)
    rows = calls.ranking(call)
    return render(
        request,
        "supply/call_manage.html",
        {
            "call": call,
            "criteria": list(call.criteria.all()),
            "rows": rows,
            "missing": sum(r.missing for r in rows),
            "panel": selectors.panel(call),
            "assign_form": AssignForm(experts=selectors.free_experts(call)),
            "admit_form": AdmitForm(),
        },
    )


@require_POST
@bureau_required(line=LINE, perm="supply.change_call")
def call_assign(request, pk):
    call = selectors.bureau_call(request.user, pk)
    form = AssignForm(request.POST, experts=selectors.free_experts(call))
    if form.is_valid() and form.cleaned_data["expert"]:
        try:
            calls.expert_assign(
                actor=request.user, call_id=call.pk, expert_id=form.cleaned_data["expert"]
            )
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, "已指派专家。")
    else:
        messages.error(request, "请选择专家库中的专家。")
    return redirect("calls:call_manage", pk=call.pk)


@require_POST
@bureau_required(line=LINE, perm="supply.change_call")
def call_admit(request, pk):
    call = selectors.bureau_call(request.user, pk)
    form = AdmitForm(request.POST)
    form.is_valid()
    try:
        admitted = calls.call_admit(
            actor=request.user,
            call_id=call.pk,
            vetting_note=form.cleaned_data.get("vetting_note", ""),
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("calls:call_manage", pk=call.pk)
    messages.success(request, f"已准入 {len(admitted)} 家机构，结果已公布。")
    return redirect("calls:result", pk=call.pk)


@bureau_required(line=LINE)
def bureau_organisations(request):
    rows = list(selectors.organisations(request.user))
    for o in rows:
        o.phone_masked = mask_phone(o.contact_phone)
    return render(request, "supply/org_bureau_list.html", {"rows": rows, "form": ReasonForm()})


@require_POST
@bureau_required(line=LINE, perm="supply.change_organisation")
def organisation_deactivate(request, pk):
    organisation = selectors.organisation(request.user, pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        organisations.organisation_deactivate(
            actor=request.user,
            organisation_id=organisation.pk,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"已停用“{organisation.name}”。")
    return redirect("calls:organisations")


@bureau_required(line=LINE)
def experts(request):
    form = ExpertForm(request.POST or None)
    password = created = None
    if request.method == "POST":
        if not is_bureau(request.user, LINE, "supply.add_expert"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            try:
                created, password = organisations.expert_create(
                    actor=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                form = ExpertForm()
    response = render(
        request,
        "supply/call_experts.html",
        {"form": form, "rows": selectors.experts(request.user), "password": password,
         "created": created},
        status=_status(form),
    )  # fmt: skip
    response["Cache-Control"] = "no-store"  # the one-time password is on this page
    return response


@require_POST
@bureau_required(line=LINE, perm="supply.change_expert")
def expert_deactivate(request, pk):
    expert = selectors.expert(request.user, pk)
    organisations.expert_deactivate(actor=request.user, expert_id=expert.pk)
    messages.success(request, f"已将“{expert.name}”移出专家库。")
    return redirect("calls:experts")


# --- an organisation's member or an expert: their own password -----------------------------


@passes(lambda u: is_organisation_member(u) or _is_expert(u))
def password(request):
    from django.contrib.auth import update_session_auth_hash

    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisations.password_change(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改。")
            home = "calls:org_home" if is_organisation_member(request.user) else "calls:expert_home"
            return redirect(home)
    return render(request, "supply/org_password.html", {"form": form}, status=_status(form))
