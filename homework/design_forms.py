"""Forms of the homework design library's pages: they parse, homework/designs.py decides."""

from django import forms

from homework.design_models import DesignLayer
from homework.models import SUBJECTS

GRADES = [(g, f"{g}年级") for g in range(1, 10)]


class DesignForm(forms.Form):
    """A design with its three layers (基础 required, 提高 and 拓展 optional)."""

    title = forms.CharField(label="标题", max_length=100,
                            error_messages={"required": "标题：请填写标题。"})  # fmt: skip
    grade = forms.TypedChoiceField(label="年级", choices=[("", "—"), *GRADES], coerce=int,
                                   error_messages={"required": "年级：请选择。"})  # fmt: skip
    subject = forms.ChoiceField(label="学科", choices=[("", "—")] + [(s, s) for s in SUBJECTS],
                                error_messages={"required": "学科：请选择学科。"})  # fmt: skip
    unit = forms.CharField(label="单元", max_length=100,
                           error_messages={"required": "单元：请填写单元。"})  # fmt: skip

    def __init__(self, data=None, *, initial=None, grades=None):
        super().__init__(data, initial=initial)
        if grades is not None:
            self.fields["grade"].choices = [("", "—")] + [(g, f"{g}年级") for g in grades]
        for level in DesignLayer.Level:
            self.fields[f"{level.value}_content"] = forms.CharField(
                label=f"{level.label}层 作业内容", required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )  # fmt: skip
            self.fields[f"{level.value}_minutes"] = forms.IntegerField(
                label=f"{level.label}层 预计用时（分钟）", required=False, min_value=1,
                max_value=300,
                error_messages={"invalid": f"{level.label}层：预计用时应为整数分钟。",
                                "min_value": f"{level.label}层：预计用时应为 1-300 分钟。",
                                "max_value": f"{level.label}层：预计用时应为 1-300 分钟。"},
            )  # fmt: skip

    def layers(self) -> dict:
        d = self.cleaned_data
        return {
            level.value: (d.get(f"{level.value}_content"), d.get(f"{level.value}_minutes"))
            for level in DesignLayer.Level
        }


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="审核结论", choices=[("approve", "通过"), ("return", "退回修改")],
        widget=forms.RadioSelect,
        error_messages={"required": "审核结论：请选择通过或退回。",
                        "invalid_choice": "审核结论：请选择通过或退回。"},
    )  # fmt: skip
    comment = forms.CharField(label="审核意见", required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip


class StaffForm(forms.Form):
    staff = forms.TypedChoiceField(
        label="教职工", coerce=int,
        error_messages={
            "required": "教职工：请选择。",
            "invalid_choice": "教职工：请选择本校教职工。",
        },
    )  # fmt: skip

    def __init__(self, data=None, *, staff=()):
        super().__init__(data)
        self.fields["staff"].choices = [("", "请选择")] + [
            (s.pk, f"{s.name}（{s.get_role_display()}）") for s in staff
        ]
