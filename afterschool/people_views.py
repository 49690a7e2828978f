"""Pages of the people register (志愿者与社会资源人员, /people/): the register of a school,
a site or the bureau, a person's record with their hours and certificate, the bureau's
overview, and naming people on a course or a lesson (posted from the course's page)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from afterschool import people as svc
from afterschool import people_selectors as sel
from afterschool.models import Lesson, Offering, Person
from afterschool.people_forms import AssignForm, PersonForm
from portal import params
from portal.access import BUREAU, get_scoped_or_404, kind_of
from portal.models import District, SchoolPeriod
from portal.permissions import bureau_required, passes
from portal.views import errors_to_form, messages_from

register_required = passes(svc.may_register)


@register_required
def index(request):
    today = timezone.localdate()
    q = params.query_text(request, "q", max_length=50)
    people = sel.search(sel.register(request.user), q)
    return render(request, "afterschool/people_index.html", {
        "rows": sel.rows(people.order_by("name", "pk")[:500], today), "q": q,
        "today": today,
    })  # fmt: skip


@register_required
def new(request):
    bureau = kind_of(request.user) == BUREAU
    form = PersonForm(request.POST or None, bureau=bureau)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        where = {k: data.pop(k, None) for k in ("school", "site", "district")}
        try:
            person = svc.person_create(user=request.user, **where, **data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已登记{person.name}。")
            return redirect("people:detail", pk=person.pk)
    return render(request, "afterschool/people_form.html", {"form": form})


@register_required
def detail(request, pk):
    person = get_scoped_or_404(
        Person.objects.select_related("provider", "school", "site"), request.user, pk=pk
    )
    # the phone is never sent back in full: the field stays empty (empty keeps the number)
    initial = svc.snapshot_fields(person) | {"provider": person.provider_id, "phone": ""}
    form = PersonForm(request.POST or None, initial=initial, editing=True)
    form.fields["phone"].widget.attrs["placeholder"] = person.masked_phone
    form.fields["phone"].help_text = "留空则不修改"
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "phone" or v}
        try:
            svc.person_update(user=request.user, person_id=person.pk, **data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("people:detail", pk=person.pk)
    today = timezone.localdate()
    vetting = [
        {"label": label, "on": getattr(person, f), "until": svc.valid_until(f, getattr(person, f))}
        for f, label, _s in svc.VETTING
    ]
    return render(request, "afterschool/people_detail.html", {
        "person": person, "form": form, "vetting": vetting, "today": today,
        "may_see_phone": svc.may_see_phone(request.user) and bool(person.phone),
        "state": svc.STATE_LABELS[svc.vetting_state(person, today)],
        "reasons": svc.lapses(person, today), "hours": svc.person_hours(person),
        "courses": person.offerings.select_related("offering__school").order_by("-pk")[:50],
    })  # fmt: skip


@register_required
def certificate(request, pk, term):
    """A printable certificate of the hours served in a term (服务时长证明)."""
    person = get_scoped_or_404(Person.objects.select_related("district"), request.user, pk=pk)
    row = next((r for r in svc.person_hours(person) if r["term"].pk == term), None)
    if row is None:
        raise Http404
    return render(request, "afterschool/people_certificate.html", {
        "person": person, "row": row, "hours": round(row["minutes"] / 60, 1),
        "today": timezone.localdate(),
    })  # fmt: skip


@passes(svc.may_see_phone)
def phone(request, pk):
    """GET: the masked number and a button; POST: the audit row, then the full number (in
    this response only: no redirect carries it, nothing caches it)."""
    person = get_object_or_404(Person, pk=pk)
    number = None
    if request.method == "POST":
        number = svc.person_phone_show(actor=request.user, person_id=person.pk)
    response = render(request, "afterschool/people_phone.html", {
        "person": person, "number": number,
    })  # fmt: skip
    add_never_cache_headers(response)
    return response


@bureau_required(line="afterschool")
def overview(request):
    """The bureau's view: the district's people by vetting state, with this term's hours."""
    districts = District.objects.order_by("pk")
    district_id = (
        params.query_id(request, "district") or districts.values_list("pk", flat=True).first()
    )
    district = get_object_or_404(districts, pk=district_id)
    state = params.query_choice(request, "state", list(svc.STATE_LABELS.items()))
    today = timezone.localdate()
    term_ids = sel.current_term_ids(district.pk, today)
    rows = sel.rows(sel.district_people(district.pk).order_by("name", "pk"), today, term_ids)
    counts = {k: sum(1 for r in rows if r["state"] == k) for k in svc.STATE_LABELS}
    if state in svc.STATE_LABELS:
        rows = [r for r in rows if r["state"] == state]
    return render(request, "afterschool/people_overview.html", {
        "district": district, "rows": rows, "counts": counts, "labels": svc.STATE_LABELS,
        "terms": SchoolPeriod.objects.filter(pk__in=term_ids), "state": state,
        "hours": round(sum(r["minutes"] for r in rows) / 60, 1),
    })  # fmt: skip


def _back(request, offering):
    if kind_of(request.user) == "school":
        return redirect("afterschool:offering_detail", pk=offering.pk)
    return redirect("people:index")


@require_POST
@register_required
def assign(request, pk):
    """Name (action=add) or remove (action=remove) a person on a course."""
    offering = get_scoped_or_404(Offering.objects.all(), request.user, pk=pk)
    form = AssignForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["person"][0])
        person_id = form.cleaned_data["person"]
        if request.POST.get("action") == "remove":
            svc.offering_person_remove(user=request.user, offering_id=offering.pk,
                                       person_id=person_id)  # fmt: skip
            messages.success(request, "已移除授课人员。")
        else:
            row = svc.offering_person_add(user=request.user, offering_id=offering.pk,
                                          person_id=person_id,
                                          role=form.cleaned_data["role"] or "lead")  # fmt: skip
            messages.success(request, f"已安排{row.person.name}。")
    except ValidationError as exc:
        messages_from(request, exc)
    return _back(request, offering)


@require_POST
@register_required
def lesson_assign(request, pk):
    """Name (action=add) or remove (action=remove) a person on one lesson (a substitute)."""
    lesson = get_scoped_or_404(Lesson.objects.select_related("offering"), request.user, pk=pk)
    form = AssignForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["person"][0])
        person_id = form.cleaned_data["person"]
        if request.POST.get("action") == "remove":
            svc.lesson_person_remove(user=request.user, lesson_id=lesson.pk, person_id=person_id)
            messages.success(request, "已移除该课次的授课人员。")
        else:
            row = svc.lesson_person_add(user=request.user, lesson_id=lesson.pk,
                                        person_id=person_id)  # fmt: skip
            messages.success(request, f"已安排{row.person.name}为 {lesson.date} 的授课人员。")
    except ValidationError as exc:
        messages_from(request, exc)
    return _back(request, lesson.offering)
