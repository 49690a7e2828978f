"""Forms of lunch-break care (parse only; the rules are in afterschool/lunch.py)."""

import datetime as dt

from django import forms

from afterschool.lunch import DEFAULT_END, DEFAULT_START
from afterschool.lunch_models import WEEKDAY_LABELS, LunchChoice

WEEKDAY_CHOICES = [(i, label) for i, label in enumerate(WEEKDAY_LABELS)]


class MonthField(forms.DateField):
    """A month as YYYY-MM (a phone's month picker), its first day."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class MonthForm(forms.Form):
    month = MonthField(
        label="月份",
        error_messages={"required": "请选择月份。", "invalid": "请按 年-月 填写月份。"},
    )
    seats = forms.IntegerField(label="名额（座位）", min_value=0)
    beds = forms.IntegerField(label="床位（平躺睡）")
    fee_per_month = forms.DecimalField(label="每月收费（元）", max_digits=8, decimal_places=2)
    days = forms.TypedMultipleChoiceField(
        label="开放日", choices=WEEKDAY_CHOICES, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple, initial=[0, 1, 2, 3, 4],
    )  # fmt: skip
    room = forms.TypedChoiceField(label="午休场地", coerce=int, choices=())
    start = forms.TimeField(
        label="午休开始",
        initial=DEFAULT_START,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end = forms.TimeField(
        label="午休结束",
        initial=DEFAULT_END,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    teacher = forms.TypedChoiceField(label="值班教师（可点名）", coerce=int, required=False,
                                     empty_value=None, choices=())  # fmt: skip

    def __init__(self, *args, rooms=(), staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", "请选择")] + [
            (r.pk, f"{r.name}（容纳{r.capacity}人）") for r in rooms
        ]
        self.fields["teacher"].choices = [("", "不指定")] + [(s.pk, s.name) for s in staff]
        if not self.is_bound:
            today = dt.date.today()
            nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            self.initial.setdefault("month", nxt)


class EnrolForm(forms.Form):
    child = forms.IntegerField(widget=forms.HiddenInput)
    arrangement = forms.ChoiceField(
        label="午休方式", choices=LunchChoice.Arrangement.choices, widget=forms.RadioSelect,
        error_messages={"required": "午休方式：请选择平躺睡（床位）或趴睡（课桌）。"},
    )  # fmt: skip
    days = forms.TypedMultipleChoiceField(
        label="午托日", choices=WEEKDAY_CHOICES, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="退出原因", max_length=200, required=False)


class ChangeForm(forms.Form):
    seats = forms.IntegerField(label="名额（座位）", error_messages={"required": "请填写名额。"})
    beds = forms.IntegerField(label="床位（平躺睡）", error_messages={"required": "请填写床位数。"})
