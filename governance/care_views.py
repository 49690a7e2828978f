"""Pages of the care ledger (关爱帮扶 一人一档), mounted at /care/ (namespace "care").

- The pupil's head teacher, the principal and the school's designated care staff: the list
  of the records they may read with each pupil's visits this term, a record (every showing
  audited), opening and editing a record, logging a visit or talk (phone-first). A teacher
  who heads no class, and anyone else of the school: 403; another class's or school's record:
  404.
- The principal: the designation of the school's care staff.
- Bureau staff (基础教育 line): counts per school only (``overview``); a record is a 403 to
  them (these pages are for school users).

The doors stay thin: parse, call one service of governance/care.py, render or redirect.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from governance import care
from governance import care_selectors as sel
from governance.care_forms import ContactForm, RecordForm, StaffForm
from portal import params
from portal.models import District
from portal.permissions import bureau_required, passes
from portal.views import errors_to_form

ERROR_STATUS = 400


@passes(sel.may_use_care)
def index(request):
    today = timezone.localdate()
    rows, term = sel.records_with_standing(request.user, today)
    return render(request, "governance/care/list.html", {
        "rows": rows, "term": term, "today": today,
        "whole_school": sel.sees_whole_school(request.user),
        "is_principal": sel.is_principal(request.user),
    })  # fmt: skip


def _record_page(request, form, status=200):
    return render(request, "governance/care/record_form.html", {"form": form}, status=status)


@passes(sel.may_use_care)
def new(request):
    children = sel.visible_children(request.user).exclude(care_record__isnull=False)
    staff = sel.school_staff_of(request.user)
    if request.method != "POST":
        return _record_page(request, RecordForm(children=children, staff=staff))
    form = RecordForm(request.POST, children=children, staff=staff)
    if form.is_valid():
        d = form.cleaned_data
        try:
            record = care.record_open(
                actor=request.user, child_id=d["child"], categories=d["categories"],
                need=d["need"], contact_id=d["contact"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已建档。")
            return redirect("care:detail", pk=record.pk)
    return _record_page(request, form, status=ERROR_STATUS)


@passes(sel.may_use_care)
def detail(request, pk):
    record = care.record_read(actor=request.user, record_id=pk)
    today = timezone.localdate()
    term = sel.term_on(record.school.district_id, today)
    done = 0
    if term is not None:
        done = (
            sel.contacts_of(record)
            .filter(
                form__in=sel.settings.PORTAL_CARE_VISIT_FORMS, date__range=(term.start, term.end)
            )
            .count()
        )
    return render(request, "governance/care/detail.html", {
        "r": record, "contacts": sel.contacts_of(record), "term": term,
        "standing": sel.standing(term, record, done, today),
        "may_close": sel.sees_whole_school(request.user),
    })  # fmt: skip


@passes(sel.may_use_care)
def edit(request, pk):
    staff = sel.school_staff_of(request.user)
    if request.method != "POST":
        record = care.record_read(actor=request.user, record_id=pk, purpose="edit")
        form = RecordForm(staff=staff, initial={
            "categories": record.categories, "need": record.need, "contact": record.contact_id,
        })  # fmt: skip
        return render(request, "governance/care/record_form.html", {"form": form, "r": record})
    form = RecordForm(request.POST, staff=staff)
    if form.is_valid():
        d = form.cleaned_data
        try:
            care.record_update(
                actor=request.user, record_id=pk, categories=d["categories"], need=d["need"],
                contact_id=d["contact"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "档案已更新。")
            return redirect("care:detail", pk=pk)
    # the rejected form shows what was typed, not the record again (no second read)
    return render(
        request, "governance/care/record_form.html", {"form": form, "pk": pk}, status=ERROR_STATUS
    )


@passes(sel.sees_whole_school)
def close(request, pk):
    if request.method != "POST":
        return redirect("care:detail", pk=pk)
    care.record_close(actor=request.user, record_id=pk)
    messages.success(request, "已结档。")
    return redirect("care:index")


@passes(sel.may_use_care)
def contact(request, pk):
    """Log a home visit or talk: one phone-sized form."""
    staff = sel.school_staff_of(request.user)
    if request.method != "POST":
        record = care.record_read(actor=request.user, record_id=pk, purpose="contact")
        return render(request, "governance/care/contact.html", {
            "form": ContactForm(staff=staff), "r": record, "pk": pk,
        })  # fmt: skip
    form = ContactForm(request.POST, staff=staff)
    if form.is_valid():
        d = form.cleaned_data
        try:
            care.contact_log(
                actor=request.user, record_id=pk, date=d["date"], form=d["form"],
                notes=d["notes"], by_id=d["by"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已登记。")
            return redirect("care:detail", pk=pk)
    return render(
        request, "governance/care/contact.html", {"form": form, "pk": pk}, status=ERROR_STATUS
    )


# --- the principal: care staff ---------------------------------------------------------------


def _staff_page(request, form, status=200):
    return render(request, "governance/care/staff.html", {
        "form": form, "rows": sel.care_staff_of(request.user),
    }, status=status)  # fmt: skip


@passes(sel.is_principal)
def staff(request):
    return _staff_page(request, StaffForm(staff=sel.school_staff_of(request.user)))


def _staff_post(request, service, done):
    if request.method != "POST":
        return redirect("care:staff")
    form = StaffForm(request.POST, staff=sel.school_staff_of(request.user))
    if form.is_valid():
        try:
            service(actor=request.user, staff_id=form.cleaned_data["staff"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, done)
            return redirect("care:staff")
    return _staff_page(request, form, status=ERROR_STATUS)


@passes(sel.is_principal)
def staff_add(request):
    return _staff_post(request, care.care_staff_designate, "已指定为关爱帮扶专干。")


@passes(sel.is_principal)
def staff_remove(request):
    return _staff_post(request, care.care_staff_remove, "已取消指定。")


# --- the bureau: counts per school -----------------------------------------------------------


@bureau_required(line="governance")
def overview(request):
    districts = list(District.objects.order_by("code"))
    district_id = params.query_choice(request, "district", [(str(d.pk), d.name) for d in districts])
    district = next((d for d in districts if str(d.pk) == district_id), None)
    if district is None and districts:
        district = districts[0]
    today = timezone.localdate()
    counts, term = sel.school_counts(district.pk, today) if district else ([], None)
    categories = list(sel.settings.PORTAL_CARE_CATEGORIES)
    rows = [(c, [c.by_category.get(k, 0) for k in categories]) for c in counts]
    return render(request, "governance/care/overview.html", {
        "districts": districts, "district": district, "rows": rows, "term": term,
        "categories": categories, "today": today,
        "totals": {
            "records": sum(c.records for c in counts), "owed": sum(c.owed for c in counts),
            "overdue": sum(c.overdue for c in counts),
        },
    })  # fmt: skip
