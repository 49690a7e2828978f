"""Forms of the care ledger's pages: they parse, governance/care.py decides."""

from django import forms
from django.conf import settings
from django.utils import timezone

from governance.care_models import CareContact


def _staff_choices(staff_rows, blank="（不指定）"):
    return [("", blank)] + [(s.pk, f"{s.name}（{s.get_role_display()}）") for s in staff_rows]


class RecordForm(forms.Form):
    child = forms.TypedChoiceField(
        label="学生", coerce=int,
        error_messages={
            "required": "学生：请选择。",
            "invalid_choice": "学生：只能选择本班（本校）学生。",
        },
    )  # fmt: skip
    categories = forms.MultipleChoiceField(
        label="关爱类别", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "关爱类别：请至少选择一项。",
                        "invalid_choice": "关爱类别：请选择区教育局设定的类别。"},
    )  # fmt: skip
    need = forms.CharField(
        label="帮扶需求（简要，勿填身份证号、住址、病历）", required=False, max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    contact = forms.TypedChoiceField(label="联系教师", coerce=int, required=False, empty_value=None)

    def __init__(self, data=None, *, children=None, staff=(), initial=None):
        super().__init__(data, initial=initial)
        if children is None:
            del self.fields["child"]
        else:
            self.fields["child"].choices = [("", "请选择")] + [
                (c.pk, f"{c.school_class} {c.name}") for c in children
            ]
        self.fields["categories"].choices = [(c, c) for c in settings.PORTAL_CARE_CATEGORIES]
        self.fields["contact"].choices = _staff_choices(staff)


class ContactForm(forms.Form):
    date = forms.DateField(
        label="日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "日期：请按年-月-日填写。", "required": "日期：请填写。"},
    )  # fmt: skip
    form = forms.ChoiceField(
        label="形式", choices=CareContact.Form.choices, widget=forms.RadioSelect,
        error_messages={"required": "形式：请选择。", "invalid_choice": "形式：请选择所列之一。"},
    )  # fmt: skip
    by = forms.TypedChoiceField(label="走访教师", coerce=int, required=False, empty_value=None)
    notes = forms.CharField(
        label="情况记录", widget=forms.Textarea(attrs={"rows": 4}), max_length=1000,
        error_messages={"required": "情况记录：请填写。"},
    )  # fmt: skip

    def __init__(self, data=None, *, staff=()):
        super().__init__(data, initial={"date": timezone.localdate(), "form": "visit"})
        self.fields["by"].choices = _staff_choices(staff, blank="（本人）")


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
        self.fields["staff"].choices = _staff_choices(staff, blank="请选择")
