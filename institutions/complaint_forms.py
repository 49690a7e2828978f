"""Forms of complaints (举报/投诉): they parse what was typed; the rules are the services'
(institutions/complaints.py), whose messages are put back on the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.complaint_models import Complaint

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(
        label=_("举报类别"),
        choices=[("", _("请选择")), *Complaint.Category.choices],
        error_messages={"required": _("请选择举报类别。"), "invalid_choice": _("请选择举报类别。")},
    )
    institution = forms.TypedChoiceField(
        label=_("被举报机构（在名录中选择）"), required=False, coerce=int, empty_value=None,
        error_messages={"invalid_choice": _("所选机构不在名录中，请重新搜索选择。")},
    )  # fmt: skip
    institution_name = forms.CharField(
        label=_("机构名称（名录中没有时填写）"), required=False, max_length=200
    )
    institution_address = forms.CharField(label=_("机构地址"), required=False, max_length=300)
    school = forms.TypedChoiceField(
        label=_("涉及学校（学校类举报必选）"), required=False, coerce=int, empty_value=None,
        error_messages={"invalid_choice": _("所选学校不存在，请重新选择。")},
    )  # fmt: skip
    text = forms.CharField(
        label=_("举报内容（发生了什么）"), widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("请填写举报内容（发生了什么）。")},
    )  # fmt: skip
    happened_on = forms.DateField(
        label=_("发生日期"), required=False, widget=DATE_WIDGET,
        error_messages={"invalid": _("发生日期格式不对，请选择日期。")},
    )  # fmt: skip
    contact_name = forms.CharField(label=_("您的姓名（选填）"), required=False, max_length=50)
    contact_phone = forms.CharField(label=_("联系电话（选填）"), required=False, max_length=20)
    # the honeypot: hidden from people, filled by bots
    website = forms.CharField(
        label=_("网址"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )  # fmt: skip

    def __init__(self, *args, institutions=(), schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [("", _("（不选）"))] + [
            (i.pk, f"{i.name}（{i.district.name}）") for i in institutions
        ]
        self.fields["school"].choices = [("", _("（不选）"))] + [
            (s.pk, f"{s.name}（{s.district.name}）") for s in schools
        ]

    @property
    def trapped(self) -> bool:
        return bool((self.data.get("website") or "").strip())
