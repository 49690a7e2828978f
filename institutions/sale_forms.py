"""Forms of the sales pages (institutions/sale_views.py): they parse, the services judge."""

from django import forms


class SaleForm(forms.Form):
    """The institution's new sale. ``course`` is an id among the institution's own courses
    (the view looks it up scoped: another institution's course is a 404)."""

    course = forms.IntegerField(
        label="课程", widget=forms.Select, error_messages={"required": "请选择课程。",
                                                           "invalid": "请选择课程。"},
    )  # fmt: skip
    parent_name = forms.CharField(label="家长姓名", max_length=50)
    parent_phone = forms.CharField(
        label="家长手机号",
        max_length=20,
        help_text="家长在本平台登录使用的手机号；登记后机构端只显示隐去中间四位的号码。",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    lessons = forms.IntegerField(label="课时数", min_value=1, max_value=10000)
    amount = forms.DecimalField(label="金额（元）", max_digits=12, decimal_places=2)
    starts_on = forms.DateField(label="服务开始", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="服务结束", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].widget.choices = [("", "请选择课程")] + [
            (c.pk, c.name) for c in courses
        ]


class CancelForm(forms.Form):
    reason = forms.CharField(label="撤销原因", max_length=300, required=False)


class AcceptForm(forms.Form):
    text_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    agree = forms.BooleanField(label="我已阅读并同意以上合同条款", required=False)

    def clean(self):
        data = super().clean()
        if self.data.get("action", "accept") == "accept" and not data.get("agree"):
            self.add_error("agree", "请勾选“我已阅读并同意以上合同条款”后再确认。")
        return data
