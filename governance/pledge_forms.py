"""Forms of commitment letters (承诺书): they parse; the rules are governance/pledges.py's."""

from django import forms

from governance.pledge_models import PledgeTemplate

YEAR_MSG = {"required": "请填写年度（四位数字）。", "invalid": "请填写年度（四位数字）。"}
DATE_MSG = {"required": "请填写签署截止日期。", "invalid": "日期格式应为 年-月-日。"}


class TemplateForm(forms.Form):
    title = forms.CharField(label="标题", required=False, max_length=200)
    text = forms.CharField(
        label="承诺内容", required=False, widget=forms.Textarea(attrs={"rows": 10})
    )


class CampaignForm(forms.Form):
    template = forms.ModelChoiceField(
        label="承诺书模板（版本）",
        queryset=PledgeTemplate.objects.none(),
        error_messages={"required": "请选择承诺书模板。", "invalid_choice": "请选择承诺书模板。"},
    )
    year = forms.IntegerField(label="年度", error_messages=YEAR_MSG)
    deadline = forms.DateField(
        label="签署截止日期",
        error_messages=DATE_MSG,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    schools = forms.TypedMultipleChoiceField(
        label="学校（全体教职工签署）",
        coerce=int,
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "所选学校不存在。"},
    )

    def __init__(self, *args, templates, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["schools"].choices = [(s.pk, str(s)) for s in schools]


class RenewForm(forms.Form):
    deadline = forms.DateField(
        label="新年度签署截止日期",
        error_messages=DATE_MSG,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class SignForm(forms.Form):
    agreed = forms.BooleanField(label="我已阅读并承诺遵守", required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
