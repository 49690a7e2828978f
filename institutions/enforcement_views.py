"""Pages of enforcement, mounted at /enforcement/ (namespace "enforcement").

Staff pages (/enforcement/staff/…): bureau staff of the training line only (is_bureau with
line="institutions"; anonymous: the portal's login; others: 403); each write is one service
of institutions/enforcement.py. Public pages (/enforcement/notices/…): the 通报, phone-sized,
cached with the whitelist (one namespace: a notice changes an institution's page too), with
no inspector, attendee or complainant in them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from institutions import enforcement
from institutions import enforcement_selectors as sel
from institutions.enforcement_forms import (
    DrawForm,
    GroupForm,
    InterviewForm,
    NoticeForm,
    PatrolForm,
    RoundForm,
    SanctionCloseForm,
    SanctionForm,
    VisitForm,
)
from institutions.enforcement_models import (
    CHECKLIST,
    EnforcementNotice,
    InspectionRound,
    Interview,
    Sanction,
    VisitPhoto,
)
from institutions.models import Institution
from portal import evidence, params
from portal.permissions import bureau_required
from portal.public_cache import cached_public
from portal.views import errors_to_form, messages_from

staff = bureau_required(line="institutions")


def _institution_or_404(pk) -> Institution:
    return get_object_or_404(Institution.objects.select_related("district"), pk=pk)


# --- rounds ----------------------------------------------------------------------------------


@staff
def rounds(request):
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rnd = enforcement.round_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect("enforcement:round", rnd.pk)
    return render(request, "institutions/enforcement/rounds.html", {
        "form": form, "rounds": sel.round_progress(),
        "sanctions": Sanction.objects.select_related("institution")[:20],
    })  # fmt: skip


@staff
def round_view(request, pk):
    try:
        rnd = sel.round_detail(pk)
    except InspectionRound.DoesNotExist:
        raise Http404 from None
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enforcement.group_add(
                actor=request.user, round_id=rnd.pk, name=form.cleaned_data["name"],
                inspector_ids=[u.pk for u in form.cleaned_data["inspectors"]],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect("enforcement:round", rnd.pk)
    return render(request, "institutions/enforcement/round.html", {
        "round": rnd, "form": form, "draw_form": DrawForm(),
    })  # fmt: skip


@staff
@require_POST
def round_draw(request, pk):
    rnd = get_object_or_404(InspectionRound, pk=pk)
    form = DrawForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            planned = enforcement.round_draw(
                actor=request.user, round_id=rnd.pk,
                district_id=d["district"].pk if d["district"] else None,
                category=d["category"] or "", count=d["count"], seed=d["seed"],
            )  # fmt: skip
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, f"已抽取 {len(planned)} 家机构。")
    else:
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
    return redirect("enforcement:round", rnd.pk)


# --- an institution's record ---------------------------------------------------------------


@staff
def institution(request, pk):
    try:
        inst = sel.staff_institution(pk)
    except Institution.DoesNotExist:
        raise Http404 from None
    return render(request, "institutions/enforcement/institution.html", {
        "institution": inst, "findings": sel.inspection_findings(inst.pk),
        "close_form": SanctionCloseForm(initial={"closed_on": timezone.localdate()}),
        "notice_entries": sel.institution_record(inst.pk)["notice_entries"],
    })  # fmt: skip


def _files(request) -> dict:
    return {item.value: request.FILES.getlist(f"photos_{item.value}") for item in CHECKLIST}


@staff
def visit_new(request, pk):
    inst = _institution_or_404(pk)
    round_id = params.query_id(request, "round")
    interview_id = params.query_id(request, "interview")
    interview = (
        get_object_or_404(Interview, pk=interview_id, institution=inst) if interview_id else None
    )
    form = VisitForm(request.POST or None, initial={"date": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                enforcement.visit_record(
                    actor=request.user, institution_id=inst.pk, date=form.cleaned_data["date"],
                    results=form.results(), files=_files(request), round_id=round_id,
                    interview_id=interview_id, note=form.cleaned_data["note"],
                )  # fmt: skip
            except ValidationError as exc:
                errors_to_form(form, exc)
                status = 400 if "files" in getattr(exc, "message_dict", {}) else 200
            else:
                messages.success(request, "检查记录已保存。")
                return redirect("enforcement:institution", inst.pk)
    return render(request, "institutions/enforcement/visit_form.html", {
        "institution": inst, "form": form, "interview": interview,
        "round": InspectionRound.objects.filter(pk=round_id).first() if round_id else None,
    }, status=status)  # fmt: skip


@staff
def interview_new(request, pk):
    inst = _institution_or_404(pk)
    form = InterviewForm(request.POST or None, institution=inst,
                         initial={"date": timezone.localdate()})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            enforcement.interview_record(
                actor=request.user, institution_id=inst.pk, date=d["date"],
                attendees=d["attendees"], problems=d["problems"], deadline=d["deadline"],
                visit_id=d["visit"].pk if d["visit"] else None,
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "约谈记录已保存。")
            return redirect("enforcement:institution", inst.pk)
    return render(request, "institutions/enforcement/form.html", {
        "institution": inst, "form": form, "title": "登记约谈",
    })  # fmt: skip


@staff
def sanction_new(request, pk):
    inst = _institution_or_404(pk)
    form = SanctionForm(
        request.POST or None, institution=inst, findings=sel.inspection_findings(inst.pk),
        initial={"decided_on": timezone.localdate()},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            enforcement.sanction_decide(
                actor=request.user, institution_id=inst.pk, kind=d["kind"],
                decided_on=d["decided_on"], reason=d["reason"], deadline=d["deadline"],
                visit_id=d["visit"].pk if d["visit"] else None,
                interview_id=d["interview"].pk if d["interview"] else None,
                finding_id=d["finding"].pk if d["finding"] else None,
                complaint_id=d["complaint"].pk if d["complaint"] else None,
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "处理决定已保存。")
            return redirect("enforcement:institution", inst.pk)
    return render(request, "institutions/enforcement/form.html", {
        "institution": inst, "form": form, "title": "作出处理决定",
    })  # fmt: skip


@staff
@require_POST
def sanction_close(request, pk):
    sanction = get_object_or_404(Sanction, pk=pk)
    form = SanctionCloseForm(request.POST)
    if form.is_valid():
        try:
            enforcement.sanction_close(
                actor=request.user, sanction_id=sanction.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, "已办结。")
    else:
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
    return redirect("enforcement:institution", sanction.institution_id)


@staff
def patrols(request):
    form = PatrolForm(request.POST or None, initial={"found_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            enforcement.patrol_record(
                actor=request.user, name=d["name"], address=d["address"],
                district_id=d["district"].pk, found_on=d["found_on"], outcome=d["outcome"],
                handed_to=d["handed_to"], note=d["note"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "无证场所已登记。")
            return redirect("enforcement:patrols")
    page = Paginator(sel.patrol_sites(), 50).get_page(request.GET.get("page"))
    return render(request, "institutions/enforcement/patrols.html", {"form": form, "page": page})


@staff
def photo(request, pk):
    row = get_object_or_404(VisitPhoto, pk=pk)
    response = FileResponse(
        evidence.storage().open(row.path, "rb"), content_type=evidence.MIME[row.kind]
    )
    response["Content-Disposition"] = f'inline; filename="photo-{row.pk}.{row.kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- 通报 -------------------------------------------------------------------------------------


def _notice_candidates():
    """Institutions with a sanction, newest first, each with its latest sanction."""
    latest = {}
    for s in Sanction.objects.select_related("institution").order_by("-decided_on", "-id")[:200]:
        latest.setdefault(s.institution_id, s)
    return list(latest.values())


@staff
def notice_new(request):
    form = NoticeForm(request.POST or None, initial={"date": timezone.localdate()})
    candidates = _notice_candidates()
    chosen = set(request.POST.getlist("include")) if request.method == "POST" else set()
    if request.method == "POST" and form.is_valid():
        entries = []
        for s in candidates:
            if str(s.institution_id) in chosen:
                entries.append({
                    "institution_id": s.institution_id,
                    "violation": request.POST.get(f"violation_{s.institution_id}", ""),
                    "sanction_id": s.pk,
                    "outcome": request.POST.get(f"outcome_{s.institution_id}", ""),
                })  # fmt: skip
        try:
            notice = enforcement.notice_publish(actor=request.user, entries=entries,
                                                **form.cleaned_data)  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "通报已发布。")
            return redirect("enforcement:notice", notice.pk)
    rows = [
        {"sanction": s, "checked": str(s.institution_id) in chosen,
         "violation": request.POST.get(f"violation_{s.institution_id}", s.reason[:500]),
         "outcome": request.POST.get(f"outcome_{s.institution_id}", s.get_kind_display())}
        for s in candidates
    ]  # fmt: skip
    return render(request, "institutions/enforcement/notice_form.html", {
        "form": form, "rows": rows,
    })  # fmt: skip


@cached_public("institutions", params=("page",))
def notices(request):
    page = Paginator(sel.public_notices(), 20).get_page(request.GET.get("page"))
    return render(request, "institutions/enforcement/notices.html", {"page": page})


@cached_public("institutions", params=())
def notice(request, pk):
    try:
        item = sel.public_notice(pk)
    except EnforcementNotice.DoesNotExist:
        raise Http404 from None
    return render(request, "institutions/enforcement/notice.html", {
        "notice": item,
    })  # fmt: skip
