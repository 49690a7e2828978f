"""Forms of holiday care's pages (parsing only; the rules are in afterschool/holiday.py)."""

import datetime as dt
import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from afterschool.models import WEEKDAY_NAMES, CareSite
from portal.models import School, SchoolPeriod

TIME = {"invalid": _("时间格式如 08:30。")}


def _time(label, required=True):
    return forms.TimeField(
        label=label, required=required,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={**TIME, "required": _("请填写时间。")},
    )  # fmt: skip


class HostForm(forms.Form):
    vacation = forms.ModelChoiceField(
        label=_("假期"), queryset=SchoolPeriod.objects.none(), empty_label="—",
        error_messages={"required": _("请选择假期。"), "invalid_choice": _("请选择假期。")},
    )  # fmt: skip
    school = forms.ModelChoiceField(
        label=_("承办学校"), queryset=School.objects.order_by("name"), required=False,
        empty_label="—", help_text=_("学校作托管点时选择；社区托管点选下一项。"),
    )  # fmt: skip
    site = forms.ModelChoiceField(
        label=_("社区托管点"), required=False, empty_label="—",
        queryset=CareSite.objects.filter(kind=CareSite.Kind.COMMUNITY, active=True),
    )  # fmt: skip
    served_schools = forms.ModelMultipleChoiceField(
        label=_("服务学校"), queryset=School.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请选择托管点服务的学校。")},
    )  # fmt: skip
    weeks = forms.CharField(
        label=_("托管周（每周的周一，如 2027-07-05, 2027-07-12）"), max_length=400,
        error_messages={"required": _("请至少选择一周。")},
    )  # fmt: skip
    days = forms.TypedMultipleChoiceField(
        label=_("服务日"), coerce=int, widget=forms.CheckboxSelectMultiple,
        choices=[(i, f"周{name}") for i, name in enumerate(WEEKDAY_NAMES)],
        error_messages={"required": _("请选择服务日。")},
    )  # fmt: skip
    morning_start = _time(_("上午开始"))
    morning_end = _time(_("上午结束"))
    afternoon_start = _time(_("下午开始（可不填）"), required=False)
    afternoon_end = _time(_("下午结束（可不填）"), required=False)
    capacity = forms.IntegerField(
        label=_("每周名额"), min_value=1, max_value=5000,
        error_messages={"required": _("请填写每周名额。"), "min_value": _("每周名额至少为 1。")},
    )  # fmt: skip
    fee_per_week = forms.DecimalField(
        label=_("每周收费（元）"), min_value=0, max_digits=8, decimal_places=2,
        error_messages={"required": _("请填写每周收费（公益托管可为 0）。")},
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vacation"].queryset = SchoolPeriod.objects.exclude(
            kind=SchoolPeriod.Kind.TERM
        ).filter(status__in=[SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE])
        if not self.is_bound and "days" not in self.initial:
            self.initial.update(
                days=list(settings.HOLIDAY_CARE_WEEKDAYS),
                morning_start=dt.time.fromisoformat(settings.HOLIDAY_CARE_MORNING_START),
                morning_end=dt.time.fromisoformat(settings.HOLIDAY_CARE_MORNING_END),
            )

    def clean_weeks(self):
        out = []
        for part in re.split(r"[\s,，、;；]+", self.cleaned_data["weeks"].strip()):
            if not part:
                continue
            try:
                out.append(dt.date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(f"“{part}”不是日期，格式如 2027-07-05。") from None
        if not out:
            raise forms.ValidationError("请至少选择一周。")
        return out

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "vacation_id": d["vacation"].pk,
            "school_id": d["school"].pk if d["school"] else None,
            "site_id": d["site"].pk if d["site"] else None,
            "served_school_ids": [s.pk for s in d["served_schools"]],
            "weeks": d["weeks"],
            "days": d["days"],
            "morning_start": d["morning_start"],
            "morning_end": d["morning_end"],
            "afternoon_start": d["afternoon_start"],
            "afternoon_end": d["afternoon_end"],
            "capacity": d["capacity"],
            "fee_per_week": d["fee_per_week"],
        }


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("关闭原因"),
        max_length=200,
        error_messages={"required": _("关闭托管点必须说明原因。")},
    )


class EnrolForm(forms.Form):
    child = forms.IntegerField(widget=forms.HiddenInput)
    offering = forms.IntegerField(
        widget=forms.HiddenInput, error_messages={"required": _("请选择假期托管周。")}
    )
