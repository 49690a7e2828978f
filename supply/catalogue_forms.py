"""Forms of the course catalogue (公益课程包): they parse; the rules are supply/catalogue.py's
(fields are optional here so that the service's message, naming its rule, is the one shown)."""

import datetime as dt
import re

from django import forms

from portal.models import GRADE_NAMES
from supply.catalogue_models import CataloguePackage

INT_MAX = 1_000_000  # parsing only: the service's rules are far below
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _int(label):
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=INT_MAX,
        error_messages={"invalid": f"{label}应为整数。", "min_value": f"{label}不能为负数。",
                        "max_value": f"{label}过大。"},
    )  # fmt: skip


def _date(label):
    return forms.DateField(
        label=label, required=False, widget=DATE,
        error_messages={"invalid": f"{label}格式应为 YYYY-MM-DD。"},
    )  # fmt: skip


class PackageForm(forms.Form):
    term = forms.TypedChoiceField(
        label="学期", coerce=int, required=False, choices=(), empty_value=None,
        error_messages={"invalid_choice": "请选择学期。"},
    )  # fmt: skip
    title = forms.CharField(label="课程包名称", required=False, max_length=1000)
    kind = forms.ChoiceField(
        label="类别", required=False, choices=[("", "请选择")] + CataloguePackage.Kind.choices,
        error_messages={"invalid_choice": "请选择类别。"},
    )  # fmt: skip
    mode = forms.ChoiceField(
        label="形式", required=False, choices=[("", "请选择")] + CataloguePackage.Mode.choices,
        error_messages={"invalid_choice": "请选择形式：到馆或送课进校。"},
    )  # fmt: skip
    grades = forms.TypedMultipleChoiceField(
        label="适用年级", coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(g, f"{name}年级") for g, name in GRADE_NAMES.items()],
        error_messages={"invalid_choice": "适用年级应为一至九年级。"},
    )  # fmt: skip
    visits = _int("场次")
    places_per_visit = _int("每场名额")
    window_start = _date("服务开始日期")
    window_end = _date("服务结束日期")
    description = forms.CharField(
        label="内容简介", required=False, max_length=100000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )  # fmt: skip

    def __init__(self, *args, terms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].choices = [("", "请选择")] + [
            (t.pk, f"{t.district.name} {t.name}（{t.start:%Y-%m-%d}至{t.end:%Y-%m-%d}）")
            for t in terms
        ]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="撤下原因", required=False, max_length=1000)


class OrderForm(forms.Form):
    pupils = _int("学生人数")
    preferred_dates = forms.CharField(
        label="希望日期（YYYY-MM-DD，多个用逗号分隔）", required=False, max_length=200
    )
    note = forms.CharField(label="备注", required=False, max_length=1000)

    def clean_preferred_dates(self):
        raw = self.cleaned_data.get("preferred_dates") or ""
        out = []
        for part in re.split(r"[\s,，、;；]+", raw.strip()):
            if not part:
                continue
            try:
                out.append(dt.date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(f"希望日期“{part[:20]}”格式应为 YYYY-MM-DD。") from None
        return out


class VisitForm(forms.Form):
    date = _date("送课日期")
    pupils_reached = _int("服务学生数")


class ConfirmForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="评分", coerce=int, required=False, empty_value=None,
        choices=[("", "请选择")] + [(i, f"{i} 分") for i in range(5, 0, -1)],
        error_messages={"invalid_choice": "评分应为 1 至 5 分。"},
    )  # fmt: skip
    comment = forms.CharField(label="评价", required=False, max_length=1000)


class LocalityForm(forms.Form):
    rural = forms.TypedChoiceField(
        label="城乡属性", coerce=lambda v: v == "1", required=True,
        choices=[("1", "农村学校"), ("0", "城镇学校")],
        error_messages={"invalid_choice": "城乡属性应为农村学校或城镇学校。",
                        "required": "请选择城乡属性：农村学校或城镇学校。"},
    )  # fmt: skip
