"""Forms of the matching fair (双向选择会): they parse; the rules are supply/fair.py's."""

from django import forms

from afterschool.models import Weekday
from portal.models import GRADE_NAMES
from supply.fair_models import FairKind

GRADES = [(g, f"{name}年级") for g, name in GRADE_NAMES.items()]
DAYS = list(Weekday.choices)


class FairForm(forms.Form):
    term = forms.TypedChoiceField(
        label="学期", coerce=int, choices=(), error_messages={"invalid_choice": "请选择学期。"}
    )
    name = forms.CharField(label="名称", max_length=1000)

    def __init__(self, *args, terms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].choices = [("", "请选择")] + [
            (t.pk, f"{t.district.name} {t.name}（{t.start}至{t.end}）") for t in terms
        ]


class _Posting(forms.Form):
    kind = forms.ChoiceField(label="课程类别", choices=[("", "请选择"), *FairKind.choices])
    grades = forms.TypedMultipleChoiceField(
        label="年级", coerce=int, choices=GRADES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个年级。"},
    )  # fmt: skip
    weekdays = forms.TypedMultipleChoiceField(
        label="服务日", coerce=int, choices=DAYS, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个服务日。"},
    )  # fmt: skip


class NeedForm(_Posting):
    places = forms.IntegerField(label="学生人数", min_value=1, max_value=32767)
    budget_per_lesson = forms.DecimalField(label="课时预算（元）", max_digits=12, decimal_places=2)
    note = forms.CharField(label="说明", required=False, max_length=1000)


class OfferForm(_Posting):
    title = forms.CharField(label="课程名称", max_length=1000)
    places = forms.IntegerField(label="每班人数", min_value=1, max_value=32767)
    capacity = forms.IntegerField(label="可服务学校数", min_value=0, max_value=32767, initial=1)
    price_per_lesson = forms.DecimalField(label="课时单价（元）", max_digits=12, decimal_places=2)
    outside_price = forms.DecimalField(
        label="校外同类课时价（元）", max_digits=12, decimal_places=2
    )
    note = forms.CharField(label="说明", required=False, max_length=1000)

    field_order = ["title", "kind", "grades", "weekdays", "places", "capacity"]


class RankForm(forms.Form):
    """One number field per candidate (``rank_<pk>``): 1 = first choice, blank = not chosen.
    The ranking is the candidates in the order of their numbers; two equal numbers are
    refused (a rank is one candidate's)."""

    def __init__(self, *args, candidates, label_of, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        for c in candidates:
            self.fields[f"rank_{c.pk}"] = forms.IntegerField(
                label=label_of(c), required=False, min_value=1, max_value=99,
                initial=getattr(c, "rank", None),
            )  # fmt: skip

    def clean(self):
        data = super().clean()
        chosen = [(v, c.pk) for c in self.candidates if (v := data.get(f"rank_{c.pk}"))]
        numbers = [v for v, _pk in chosen]
        if len(set(numbers)) != len(numbers):
            raise forms.ValidationError("志愿顺序不能重复：每个志愿序号只能填一次。")
        self.ranking = [pk for _v, pk in sorted(chosen)]
        return data

    def rows(self):
        return [(c, self[f"rank_{c.pk}"]) for c in self.candidates]
