"""Parents' course menu and enrolments; school staff's list of courses."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from afterschool import enrolment as svc
from afterschool import operations
from afterschool.models import (
    CareSite,
    Enrolment,
    Lesson,
    Offering,
    PlanItem,
    Room,
    SchoolPlan,
)
from portal.access import get_scoped_or_404, scope
from portal.models import SchoolPeriod, SchoolStaff
from portal.permissions import PARENT, SCHOOL, kind_required
from portal.views import errors_to_form


@kind_required(PARENT)
def menu(request):
    """Each child's courses: enrolled, waiting, or why not (the same reason an attempt would
    give), read for all rows at once. Courses of a term no longer active leave the menu;
    the children's past and ended courses are listed under "历史课程"."""
    children = list(
        scope(request.user.parent.children.select_related("school_class", "school"),
              request.user)
    )  # fmt: skip
    school_ids = {c.school_id for c in children}
    district_ids = {c.school.district_id for c in children}
    # the children's schools' courses, and the community sites' of their districts; holiday
    # weeks and lunch months have their own pages (/holiday/, /lunch/)
    offerings = list(
        Offering.objects.filter(
            Q(school_id__in=school_ids)
            | Q(site__kind=CareSite.Kind.COMMUNITY, site__district_id__in=district_ids),
            status=Offering.Status.PUBLISHED,
            plan__term__status=SchoolPeriod.Status.ACTIVE,
        )
        .exclude(kind__in=[Offering.Kind.HOLIDAY, Offering.Kind.LUNCH])
        .select_related("teacher", "contract__provider", "room", "plan__term", "site")
        .order_by("weekday", "start", "name")
    )
    shown = {o.pk for o in offerings}
    mine = {}
    history = []
    for e in (
        Enrolment.objects.filter(child__in=children)
        .select_related("offering__plan__term", "child")
        .order_by("-changed_at", "-id")
    ):
        live = e.status in (Enrolment.Status.ENROLLED, Enrolment.Status.WAITING)
        if live and e.offering_id in shown:
            mine[(e.offering_id, e.child_id)] = e
        elif not live or e.offering_id not in shown:
            history.append(e)
    now = timezone.localtime()
    term_ids = {o.plan.term_id for o in offerings}
    busy = svc.busy_lessons([c.pk for c in children], term_ids, now.date())
    # one read of the courses' lessons: when each starts, and those still to come
    lessons = {pk: [] for pk in shown}
    starts = {}
    for offering_id, day, start, end, status in (
        Lesson.objects.filter(offering_id__in=shown)
        .exclude(status=Lesson.Status.CANCELLED)
        .order_by("date", "start")
        .values_list("offering_id", "date", "start", "end", "status")
    ):
        starts.setdefault(offering_id, timezone.make_aware(dt.datetime.combine(day, start)))
        if status == Lesson.Status.SCHEDULED and day >= now.date():
            lessons[offering_id].append((day, start, end))
    taken = dict(
        Enrolment.objects.filter(offering__in=offerings, status=Enrolment.Status.ENROLLED)
        .values_list("offering_id")
        .annotate(n=Count("pk"))
    )
    rows = []
    for child in children:
        for o in offerings:
            if o.site_id is not None and o.site.kind == CareSite.Kind.COMMUNITY:
                if o.site.district_id != child.school.district_id:
                    continue
            elif o.school_id != child.school_id:
                continue
            live = mine.get((o.pk, child.pk))
            reason = (
                None
                if live
                else svc.why_not(
                    child, o, now=now, first_start=starts.get(o.pk), enrolled=busy[child.pk],
                    lessons=lessons[o.pk],
                )
            )  # fmt: skip
            rows.append({
                "child": child, "offering": o, "enrolment": live,
                "left": max(0, o.capacity - taken.get(o.pk, 0)),
                "why_not": reason,
                "position": svc.waiting_position(live) if live else None,
                "started": starts.get(o.pk) is not None and now >= starts[o.pk],
            })  # fmt: skip
    # where a child with a place could move (a switch): the courses they could enrol in now
    for row in rows:
        e = row["enrolment"]
        if e is not None and e.status == Enrolment.Status.ENROLLED and not row["started"]:
            row["switch_to"] = [
                r["offering"] for r in rows
                if r["child"] == row["child"] and r["enrolment"] is None and r["left"]
                and svc.why_not(row["child"], r["offering"], now=now,
                                first_start=starts.get(r["offering"].pk),
                                enrolled=busy[row["child"].pk],
                                lessons=lessons[r["offering"].pk],
                                ignore=e.offering_id) is None
            ]  # fmt: skip
    return render(
        request,
        "afterschool/menu.html",
        {"rows": rows, "children": children, "history": history},
    )


@require_POST
@kind_required(PARENT)
def enrol(request):
    try:
        e = svc.enrol(
            user=request.user,
            child_id=int(request.POST.get("child", 0)),
            offering_id=int(request.POST.get("offering", 0)),
        )
    except svc.AlreadyEnrolled as exc:
        messages.info(request, exc.messages[0])  # changes nothing
    except (ValidationError, ValueError, Offering.DoesNotExist) as exc:
        messages.error(request, getattr(exc, "messages", ["报名失败，请重试。"])[0])
    else:
        # the place and its bill as the service left them under the course's lock: no
        # query after the commit (svc.enrol's ``position`` and ``bill``)
        if e.status == Enrolment.Status.WAITING:
            messages.warning(
                request,
                f"名额已满，{e.child.name}已进入候补，第 {e.position} 位；候补不收费。",
            )
        else:
            bill = e.bill
            due = (
                f"已生成账单 {bill.amount} 元，请在“缴费与考勤”中支付。"
                if bill and bill.amount
                else ""
            )
            messages.success(request, f"{e.child.name}已报名“{e.offering.name}”。{due}")
    return redirect("afterschool:menu")


@require_POST
@kind_required(PARENT)
def withdraw(request, pk):
    enrolment = get_scoped_or_404(Enrolment.objects.all(), request.user, pk=pk)
    try:
        svc.withdraw(user=request.user, enrolment_id=enrolment.pk)
        messages.success(request, "已退课。")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("afterschool:menu")


@require_POST
@kind_required(PARENT)
def switch(request, pk):
    enrolment = get_scoped_or_404(Enrolment.objects.all(), request.user, pk=pk)
    try:
        moved = svc.switch(user=request.user, enrolment_id=enrolment.pk,
                           to_offering_id=int(request.POST.get("to", 0)))  # fmt: skip
        messages.success(request, f"{moved.child.name}已换到“{moved.offering.name}”。")
    except (ValidationError, ValueError, Offering.DoesNotExist) as exc:
        messages.error(request, getattr(exc, "messages", ["换课失败，请重试。"])[0])
    return redirect("afterschool:menu")


class OfferingForm(forms.ModelForm):
    grades = forms.TypedMultipleChoiceField(
        label="面向年级", coerce=int, widget=forms.CheckboxSelectMultiple,
        choices=[(g, f"{g}年级") for g in range(1, 10)],
        error_messages={"required": "请选择面向的年级。"},
    )  # fmt: skip

    class Meta:
        model = Offering
        fields = ["plan", "plan_item", "name", "kind", "teacher", "contract", "grades",
                  "capacity", "weekday", "start", "end", "room", "fee_per_lesson", "starts_on",
                  "signup_opens", "signup_closes"]  # fmt: skip
        widgets = {"start": forms.TimeInput(attrs={"type": "time"}),
                   "end": forms.TimeInput(attrs={"type": "time"}),
                   "starts_on": forms.DateInput(attrs={"type": "date"}),
                   "signup_opens": forms.DateInput(attrs={"type": "date"}),
                   "signup_closes": forms.DateInput(attrs={"type": "date"})}  # fmt: skip

    # the people who teach besides the teacher: chosen from the register, never typed
    people = forms.ModelMultipleChoiceField(
        label="授课人员（志愿者/社会资源人员名册）", required=False, queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    def __init__(self, *args, school, **kwargs):
        from afterschool.people import assignable_for_school
        from afterschool.providers import admitted_contracts

        super().__init__(*args, **kwargs)
        self.school = school
        self.fields["people"].queryset = assignable_for_school(school).order_by("name", "pk")
        # a school's own courses are term courses of the menu's kinds: holiday weeks, lunch
        # months and community courses are made by their own services (and their own rules)
        self.fields["plan"].queryset = SchoolPlan.objects.filter(
            school=school, term__kind=SchoolPeriod.Kind.TERM
        )
        self.fields["kind"].choices = [(k.value, k.label) for k in operations.SCHOOL_COURSE_KINDS]
        self.fields["teacher"].queryset = SchoolStaff.objects.filter(school=school)
        self.fields["room"].queryset = Room.objects.filter(school=school)
        self.fields["plan_item"].queryset = PlanItem.objects.filter(plan__school=school)
        self.fields["contract"].queryset = admitted_contracts()
        self.fields["weekday"].widget = forms.Select(
            choices=[(i, f"周{n}") for i, n in enumerate("一二三四五六日")]
        )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "结束时间应晚于开始时间。")
        opens, closes = data.get("signup_opens"), data.get("signup_closes")
        if opens and closes and closes < opens:
            self.add_error("signup_closes", "报名截止日期应不早于报名开始日期。")
        room, capacity = data.get("room"), data.get("capacity")
        if room and capacity and room.capacity < capacity:
            self.add_error("room", f"{room.name}只能容纳{room.capacity}人，少于名额{capacity}人。")
        if not data.get("teacher") and not data.get("contract") and not data.get("people"):
            self.add_error("teacher", "请选择授课教师、第三方机构的服务合同，或名册中的授课人员。")
        contract = data.get("contract")
        if contract and data.get("fee_per_lesson") not in (None, contract.price_per_lesson):
            self.add_error(
                "fee_per_lesson", f"第三方课程按合同价代收：每课时 {contract.price_per_lesson} 元。"
            )
        return data


@kind_required(SCHOOL)
def offerings(request):
    staff = request.user.school_staff
    form = OfferingForm(request.POST or None, school=staff.school)
    if request.method == "POST" and form.is_valid():
        try:
            operations.offering_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "课程已保存为草稿，开放报名后家长可见。")
            return redirect("afterschool:offerings")
    listing = (
        scope(Offering.objects.all(), request.user)
        .select_related("teacher", "contract__provider", "plan__term")
        .order_by("weekday", "start")
    )
    return render(request, "afterschool/offerings.html", {"form": form, "offerings": listing})


@require_POST
@kind_required(SCHOOL)
def offering_publish(request, pk):
    offering = get_scoped_or_404(Offering.objects.all(), request.user, pk=pk)
    try:
        published = operations.offering_publish(user=request.user, offering_id=offering.pk)
        note = getattr(published, "lessons_note", "")
        messages.success(request, "已开放报名。" + (note or ""))
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    return redirect("afterschool:offerings")
