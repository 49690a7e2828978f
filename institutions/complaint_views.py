"""Pages of complaints (举报/投诉), mounted at /complaints/ (namespace "complaints").

- Public, no account: file a complaint (``file``), see its tracking code once (``done``),
  follow it with the code (``track``: status and reply only).
- Parents: their own complaints (``mine``).
- Bureau staff of the line a complaint is routed to (and the superuser): the list, one
  complaint with its history and the actions on it, the complainant's contact by a
  deliberate, audited "show". Staff of another line: 403.
- A school's principal or 教导处: the complaints assigned to their school (another
  school's: 404), answered with evidence files; never the complainant's name or phone.

The doors stay thin: parse, call one service of institutions/complaints.py, render.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from institutions import complaint_selectors as selectors
from institutions import complaints
from institutions.complaint_forms import ComplaintForm
from institutions.complaint_models import Complaint
from portal import evidence, params, ratelimit
from portal.access import client_ip, get_scoped_or_404
from portal.permissions import (
    PARENT,
    bureau_required,
    kind_required,
    passes,
    require,
    school_manager_required,
)

S = Complaint.Status
SESSION_CODE = "complaint_code"
ERROR_STATUS = 400  # a refused submission says so in its status too


def _put_errors(form, exc: ValidationError) -> list[str]:
    """The service's messages on the form's fields; those of the files returned (the files
    are read from request.FILES, not a form field)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return []
    file_errors = []
    for field, errors in exc.message_dict.items():
        if field == "files":
            file_errors.extend(errors)
        else:
            form.add_error(field if field in form.fields else None, errors)
    return file_errors


def _file_page(request, form, q, file_errors=(), status=200):
    return render(
        request,
        "institutions/complaints/file.html",
        {"form": form, "q": q, "file_errors": file_errors},
        status=status,
    )


def _form(q, data=None):
    return ComplaintForm(
        data, institutions=selectors.institution_options(q), schools=selectors.school_options()
    )


def file(request):
    """The public complaint form (phone-first); no account needed."""
    q = params.query_text(request, "q", max_length=100)
    if request.method != "POST":
        return _file_page(request, _form(q), q)
    form = _form(q, request.POST)
    address = client_ip(request)
    if not complaints.rate_take(address):
        response = render(request, "429.html", {"what": "举报"}, status=429)
        response["Retry-After"] = str(ratelimit.WINDOW)
        return response
    filed, file_errors = None, []
    if form.trapped:
        form.add_error(None, "提交未成功，请刷新页面后重新填写。")
    elif form.is_valid():
        data = form.cleaned_data
        try:
            filed = complaints.complaint_file(
                user=request.user, category=data["category"], text=data["text"],
                institution_id=data["institution"], institution_name=data["institution_name"],
                institution_address=data["institution_address"], school_id=data["school"],
                happened_on=data["happened_on"], contact_name=data["contact_name"],
                contact_phone=data["contact_phone"], files=request.FILES.getlist("files"),
            )  # fmt: skip
        except ValidationError as exc:
            file_errors = _put_errors(form, exc)
    if filed is None:
        complaints.rate_release(address)
        return _file_page(request, form, q, file_errors, status=ERROR_STATUS)
    request.session[SESSION_CODE] = filed[1]
    return redirect("complaints:done")


def done(request):
    """The tracking code, shown once after filing (kept in the session until shown)."""
    code = request.session.pop(SESSION_CODE, None)
    if not code:
        return redirect("complaints:track")
    return render(
        request, "institutions/complaints/done.html", {"code": complaints.code_display(code)}
    )


def track(request):
    """Status and reply of the complaint whose code is given; nothing else of it."""
    raw = params.query_text(request, "code", max_length=40)
    complaint, error = None, ""
    if raw:
        complaint = selectors.by_code(raw)
        if complaint is None:
            error = "查询码不正确或不存在，请核对后重新输入（12位，不区分大小写）。"
    return render(
        request,
        "institutions/complaints/track.html",
        {"complaint": complaint, "code": raw, "error": error},
        status=404 if error else 200,
    )


@kind_required(PARENT)
def mine(request):
    return render(
        request, "institutions/complaints/mine.html", {"rows": selectors.mine(request.user)}
    )


# --- bureau staff --------------------------------------------------------------------------


@passes(lambda user: bool(complaints.handled_lines(user)))
def staff_list(request):
    lines = complaints.handled_lines(request.user)
    status = params.query_choice(request, "status", S.choices)
    category = params.query_choice(request, "category", Complaint.Category.choices)
    line = params.query_choice(request, "line", Complaint.Line.choices)
    rows = selectors.staff_list(request.user, status=status, line=line, category=category)
    return render(request, "institutions/complaints/staff_list.html", {
        "rows": rows[:500], "statuses": S.choices, "categories": Complaint.Category.choices,
        "lines": [c for c in Complaint.Line.choices if c[0] in lines],
        "status": status or "", "category": category or "", "line": line or "",
    })  # fmt: skip


def _handled(request, pk):
    complaint = get_object_or_404(selectors.with_history(Complaint.objects), pk=pk)
    require(complaints.may_handle(request.user, complaint))
    return complaint


def _staff_page(request, complaint, *, contact=None, status=200):
    from portal.models import School

    schools = School.objects.order_by("name")
    if complaint.district_id:
        schools = schools.filter(district_id=complaint.district_id)
    return render(request, "institutions/complaints/staff_detail.html", {
        "c": complaint, "steps": complaint.steps.all(), "files": complaint.files.all(),
        "group": selectors.group_members(complaint), "due": complaints.deadlines(complaint),
        "schools": schools, "contact": contact, "post": request.POST,
        "assignable": complaint.category not in Complaint.INSTITUTION_CATEGORIES,
    }, status=status)  # fmt: skip


@bureau_required()
def staff_detail(request, pk):
    return _staff_page(request, _handled(request, pk))


ACTIONS = {
    "accept": lambda r, pk: complaints.complaint_accept(
        actor=r.user, complaint_id=pk, note=r.POST.get("note", "")
    ),
    "reject": lambda r, pk: complaints.complaint_reject(
        actor=r.user, complaint_id=pk, reason=r.POST.get("reason", "")
    ),
    "assign": lambda r, pk: complaints.complaint_assign(
        actor=r.user, complaint_id=pk, school_id=r.POST.get("school"), note=r.POST.get("note", "")
    ),
    "answer": lambda r, pk: complaints.complaint_answer(
        actor=r.user,
        complaint_id=pk,
        answer=r.POST.get("answer", ""),
        files=r.FILES.getlist("files"),
    ),  # fmt: skip
    "return": lambda r, pk: complaints.complaint_return(
        actor=r.user, complaint_id=pk, note=r.POST.get("note", "")
    ),
    "close": lambda r, pk: complaints.complaint_close(
        actor=r.user, complaint_id=pk, reply=r.POST.get("reply", "")
    ),
}
DONE = {
    "accept": "已受理。",
    "reject": "已不予受理，理由已作为答复告知举报人。",
    "assign": "已交办学校。",
    "answer": "已反馈办理情况。",
    "return": "已退回学校。",
    "close": "已办结，答复已告知举报人。",
}


@bureau_required()
@require_POST
def staff_act(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    complaint = _handled(request, pk)
    try:
        ACTIONS[action](request, complaint.pk)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        complaint = _handled(request, pk)
        return _staff_page(request, complaint, status=ERROR_STATUS)
    messages.success(request, DONE[action])
    return redirect("complaints:staff_detail", pk=complaint.pk)


@bureau_required()
@require_POST
def staff_contact(request, pk):
    """The complainant's full name and phone: audited before they are shown."""
    complaint = _handled(request, pk)
    name, phone = complaints.complaint_contact_show(actor=request.user, complaint_id=complaint.pk)
    return _staff_page(request, complaint, contact={"name": name, "phone": phone})


# --- schools -------------------------------------------------------------------------------


@school_manager_required
def school_list(request):
    return render(
        request,
        "institutions/complaints/school_list.html",
        {"rows": selectors.school_list(request.user)},
    )


@school_manager_required
def school_detail(request, pk):
    complaint = get_scoped_or_404(selectors.with_history(Complaint.objects), request.user, pk=pk)
    status = 200
    if request.method == "POST":
        try:
            complaints.complaint_answer(
                actor=request.user, complaint_id=complaint.pk,
                answer=request.POST.get("answer", ""), files=request.FILES.getlist("files"),
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            status = ERROR_STATUS
        else:
            messages.success(request, "已反馈办理情况，等待教育局审核办结。")
            return redirect("complaints:school_detail", pk=complaint.pk)
        complaint = get_scoped_or_404(
            selectors.with_history(Complaint.objects), request.user, pk=pk
        )
    return render(request, "institutions/complaints/school_detail.html", {
        "c": complaint, "steps": complaint.steps.all(),
        "files": selectors.school_files(complaint), "post": request.POST,
    }, status=status)  # fmt: skip


# --- files ---------------------------------------------------------------------------------


def file_download(request, pk):
    """A complaint's file, to whom may see it (404 for anyone else); always a download."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    item = selectors.file_for(request.user, pk)
    if item is None:
        raise Http404
    try:
        handle = evidence.storage().open(item.path, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=item.name, content_type=evidence.MIME[item.kind]
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
