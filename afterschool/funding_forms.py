"""Forms of the funding pages: they parse; afterschool/funding.py decides."""

import datetime as dt

from django import forms

from portal import params


class SubsidyForm(forms.Form):
    """The bureau posts one school's per-pupil subsidy for a term."""

    school = forms.IntegerField(label="学校")
    term = forms.IntegerField(label="学期", widget=forms.HiddenInput)
    pupils = forms.IntegerField(
        label="在校学生数（空：按平台学生名册）",
        required=False,
        help_text="如与学籍人数不同，可填写教育局核定的学生数。",
    )


class PayForm(forms.Form):
    """A school's monthly report of the subsidy paid to each teacher (课时补助月报)."""

    month = forms.CharField(label="月份", max_length=7)

    def __init__(self, *args, teachers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.teachers = list(teachers)
        for person in self.teachers:
            self.fields[f"amount_{person.pk}"] = forms.CharField(
                label=f"{person.name}实发补助（元）", required=False, max_length=12
            )

    def clean_month(self) -> dt.date:
        try:
            text = params.parse_month(self.cleaned_data["month"].strip())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return dt.date(int(text[:4]), int(text[5:7]), 1)

    def amounts(self) -> dict:
        out = {}
        for person in self.teachers:
            raw = (self.cleaned_data.get(f"amount_{person.pk}") or "").strip()
            if raw:
                out[person.pk] = raw
        return out
