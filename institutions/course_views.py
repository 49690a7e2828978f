"""Staff pages to add and change a course: every save goes through course_save, which checks
the price cap and the training-time rules and names the rule it refuses on."""

import datetime as dt
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from institutions import services
from institutions.models import SUBJECT_CHOICES, Course, Institution
from portal.permissions import bureau_required

WEEKDAYS = "一二三四五六日"
_SLOT = re.compile(
    r"^(?:周|星期)?([一二三四五六日天1-7])\s*(\d{1,2}:\d{2})\s*[-–~至]\s*(\d{1,2}:\d{2})$"
)


class CourseForm(forms.Form):
    name = forms.CharField(
        label="课程名称", max_length=200, error_messages={"required": "请填写课程名称。"}
    )
    subject = forms.ChoiceField(label="科目", choices=SUBJECT_CHOICES)
    mode = forms.ChoiceField(label="形式", choices=Institution.Mode.choices)
    lesson_minutes = forms.IntegerField(
        label="每课时（分钟）",
        min_value=10,
        max_value=240,
        error_messages={"required": "请填写每课时分钟数。"},
    )
    class_size = forms.IntegerField(
        label="班额（人）", min_value=1, max_value=500, error_messages={"required": "请填写班额。"}
    )
    price_per_lesson = forms.DecimalField(
        label="每生每课时价格（元）",
        min_value=0,
        max_digits=8,
        decimal_places=2,
        error_messages={"required": "请填写价格。"},
    )
    term_start = forms.DateField(
        label="开课日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请选择开课日期。"},
    )
    term_end = forms.DateField(
        label="结课日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请选择结课日期。"},
    )
    slots = forms.CharField(
        label="每周上课时间（每行一个，如：周六 09:00-10:30）",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请至少填写一个上课时间。"},
    )

    def clean_slots(self):
        slots = []
        for number, line in enumerate(self.cleaned_data["slots"].splitlines(), start=1):
            line = line.strip().replace("：", ":")
            if not line:
                continue
            match = _SLOT.match(line)
            if not match:
                raise ValidationError(f"第{number}行“{line}”格式不对，应为“周六 09:00-10:30”。")
            day, start, end = match.groups()
            weekday = "1234567".index(day) if day.isdigit() else "一二三四五六日天".index(day) % 7
            try:
                slots.append(
                    {
                        "weekday": weekday,
                        "start": dt.time.fromisoformat(start.zfill(5)),
                        "end": dt.time.fromisoformat(end.zfill(5)),
                    }
                )
            except ValueError:
                raise ValidationError(f"第{number}行的时间“{line}”无效。") from None
        if not slots:
            raise ValidationError("请至少填写一个上课时间。")
        return slots


# bureau staff of the training-institutions line who may change the register
course_staff_required = bureau_required(line="institutions", perm=services.CHANGE_PERM)


def _save(request, institution, course=None):
    if course is None:
        initial = {"mode": institution.mode}
    else:
        initial = {
            f: getattr(course, f)
            for f in [
                "name",
                "subject",
                "mode",
                "lesson_minutes",
                "class_size",
                "price_per_lesson",
                "term_start",
                "term_end",
            ]
        }
        initial["slots"] = "\n".join(
            f"周{WEEKDAYS[s.weekday]} {s.start:%H:%M}-{s.end:%H:%M}" for s in course.slots.all()
        )
    form = CourseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        slots = data.pop("slots")
        try:
            services.course_save(
                actor=request.user, institution=institution, course=course, slots=slots, **data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "课程已保存。")
            return redirect(reverse("institutions:detail", args=[institution.pk]))
    return render(
        request,
        "institutions/course_form.html",
        {"form": form, "institution": institution, "course": course},
    )


@course_staff_required
def course_new(request, pk):
    return _save(request, get_object_or_404(Institution.objects.select_related("district"), pk=pk))


@course_staff_required
def course_edit(request, pk):
    course = get_object_or_404(Course.objects.select_related("institution__district"), pk=pk)
    return _save(request, course.institution, course)
