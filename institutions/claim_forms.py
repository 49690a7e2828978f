"""Forms of 消课 claims: the institution's claim of one lesson for some buyers of a course,
and the parent's dispute of a claim."""

from django import forms

from institutions.claims import buyer_label


class ClaimForm(forms.Form):
    date = forms.DateField(
        label="上课日期", widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写上课日期。",
                        "invalid": "请按 2026-03-02 的格式填写日期。"},
    )  # fmt: skip
    start = forms.TimeField(
        label="开始时间", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "请填写开始时间。", "invalid": "请按 18:30 的格式填写时间。"},
    )  # fmt: skip
    end = forms.TimeField(
        label="结束时间", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "请填写结束时间。", "invalid": "请按 19:15 的格式填写时间。"},
    )  # fmt: skip
    lessons = forms.IntegerField(
        label="消课课时", min_value=1, max_value=10, initial=1,
        error_messages={"required": "请填写消课课时。", "invalid": "消课课时应为整数。",
                        "min_value": "消课课时至少为 1。", "max_value": "一次消课最多 10 课时。"},
    )  # fmt: skip
    purchases = forms.MultipleChoiceField(
        label="购买人（勾选本节课到课的学员）", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少勾选一位购买人。",
                        "invalid_choice": "所选购买人不在本课程的有效预收费中，请刷新后重选。"},
    )  # fmt: skip

    def __init__(self, *args, purchases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purchases"].choices = [
            (str(p.pk), f"{buyer_label(p)} 已消{p.lessons_consumed}/{p.lessons}课时")
            for p in purchases
        ]


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label="异议事由", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写异议事由（如：当天没有上课）。",
                        "max_length": "异议事由最多 300 个字。"},
    )  # fmt: skip
    complain = forms.BooleanField(label="同时向教育局举报投诉（违规收费/预收费）", required=False)
