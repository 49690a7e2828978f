"""Forms of refunds (退费): they parse what was typed; the rules are the services'
(institutions/refunds.py), whose messages are put back on the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

REASON_WIDGET = forms.Textarea(attrs={"rows": 3, "maxlength": 300})


class AskForm(forms.Form):
    reason = forms.CharField(
        label=_("退费原因"), widget=REASON_WIDGET, required=False,
        help_text=_("如：孩子课业安排变化、搬家、对教学不满意等。"),
    )  # fmt: skip


class AnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("答复"),
        choices=[
            ("agree", _("同意退还未消课费用")),
            ("refuse", _("拒绝（须写明理由，将转教育局）")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择同意或拒绝。"),
            "invalid_choice": _("请选择同意或拒绝。"),
        },
    )
    reason = forms.CharField(label=_("理由（拒绝时必填）"), widget=REASON_WIDGET, required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("决定"),
        choices=[("refund", _("决定退费（退还未消课费用）")), ("reject", _("驳回申请"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择决定退费或驳回。"),
                        "invalid_choice": _("请选择决定退费或驳回。")},
    )  # fmt: skip
    reason = forms.CharField(label=_("决定理由"), widget=REASON_WIDGET, required=False)


class BatchForm(forms.Form):
    reason = forms.CharField(
        label=_("退费事由（如：机构停业跑路，经查属实）"), widget=REASON_WIDGET, required=False
    )
    confirm = forms.BooleanField(
        label=_("我已核对预览，确认为上列家长办理全额退费"), required=False,
    )  # fmt: skip
