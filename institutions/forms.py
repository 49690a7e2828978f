from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.models import SUBJECT_CHOICES, Institution, ListChange
from portal.models import District


class SearchForm(forms.Form):
    q = forms.CharField(label=_("机构名称"), max_length=50, required=False)
    district = forms.ModelChoiceField(
        label=_("所在区"), queryset=District.objects.order_by("code"), required=False,
        empty_label=_("全部区"),
    )  # fmt: skip
    category = forms.ChoiceField(
        label=_("类别"), choices=[("", _("全部类别")), *Institution.Category.choices],
        required=False,
    )  # fmt: skip
    subject = forms.ChoiceField(
        label=_("科目"), choices=[("", _("全部科目")), *SUBJECT_CHOICES], required=False
    )
    colour = forms.ChoiceField(
        label=_("名单"),
        choices=[("", _("全部")), *ListChange.Colour.choices],
        required=False,
    )
