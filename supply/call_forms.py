"""The forms of the call pages: they parse; the rules are supply/calls.py's and
supply/organisations.py's."""

from django import forms

from supply.account_models import Organisation, OrganisationMember


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; the content checks are portal.evidence's (the service)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class RegisterForm(forms.Form):
    name = forms.CharField(label="组织名称", required=False, max_length=1000)
    credit_code = forms.CharField(label="统一社会信用代码", required=False, max_length=100)
    kind = forms.ChoiceField(
        label="组织类型",
        choices=[("", "请选择")] + list(Organisation.Kind.choices),
        required=False,
    )
    contact_name = forms.CharField(label="联系人", required=False, max_length=1000)
    contact_phone = forms.CharField(label="联系电话", required=False, max_length=100)
    username = forms.CharField(label="登录账号", required=False, max_length=1000)
    member_name = forms.CharField(
        label="管理员姓名（默认为联系人）", required=False, max_length=1000
    )
    password1 = forms.CharField(label="登录密码", required=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="再次输入密码", required=False, widget=forms.PasswordInput)


class ApplyForm(forms.Form):
    service_items = forms.CharField(
        label="拟提供的服务项目", required=False, max_length=100000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    plan = forms.CharField(
        label="课程方案概述", required=False, max_length=100000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )  # fmt: skip
    price_per_lesson = forms.DecimalField(
        label="报价（元/课时）", required=False, max_digits=12, decimal_places=2,
        error_messages={"invalid": "报价应为金额（元），最多两位小数。"},
    )  # fmt: skip
    outside_price = forms.DecimalField(
        label="校外同类课时价（元/课时）", required=False, max_digits=12, decimal_places=2,
        error_messages={"invalid": "校外同类课时价应为金额（元），最多两位小数。"},
    )  # fmt: skip
    files = MultipleFileField(label="申报材料（PDF/JPG/PNG，可多选）", required=False)


class MemberForm(forms.Form):
    username = forms.CharField(label="登录账号", required=False, max_length=1000)
    name = forms.CharField(label="姓名", required=False, max_length=1000)
    role = forms.ChoiceField(
        label="角色", choices=OrganisationMember.Role.choices, required=False,
        initial=OrganisationMember.Role.STAFF,
    )  # fmt: skip


class ExpertForm(forms.Form):
    username = forms.CharField(label="登录账号", required=False, max_length=1000)
    name = forms.CharField(label="姓名", required=False, max_length=1000)
    field = forms.CharField(label="专业领域", required=False, max_length=1000)


class CallForm(forms.Form):
    title = forms.CharField(label="征集标题", required=False, max_length=1000)
    service_kinds = forms.CharField(label="服务类别（如 体育、艺术、科技）", required=False)
    description = forms.CharField(
        label="征集说明", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    deadline = forms.DateTimeField(
        label="申报截止时间", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "截止时间格式应为 年-月-日 时:分。"},
    )  # fmt: skip
    criteria = forms.CharField(
        label="评分项（每行“名称 分值”，分值之和为100）", required=False,
        initial="资质 20\n课程方案 30\n师资 25\n价格 15\n安全 10",
        widget=forms.Textarea(attrs={"rows": 6}),
    )  # fmt: skip
    tie_criterion = forms.CharField(
        label="同分时优先比较的评分项（其后按提交时间先后）", required=False, initial="课程方案"
    )
    admit_count = forms.IntegerField(
        label="拟准入数量", required=False, min_value=0,
        error_messages={"invalid": "拟准入数量应为整数。", "min_value": "拟准入数量至少为 1 家。"},
    )  # fmt: skip
    service_start = forms.DateField(
        label="服务期开始", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "日期格式应为 年-月-日。"},
    )  # fmt: skip
    service_end = forms.DateField(
        label="服务期结束", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "日期格式应为 年-月-日。"},
    )  # fmt: skip


class AssignForm(forms.Form):
    expert = forms.TypedChoiceField(
        label="专家", coerce=int, choices=(), required=False,
        error_messages={"invalid_choice": "该专家不在专家库中或已停用。"},
    )  # fmt: skip

    def __init__(self, *args, experts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].choices = [("", "请选择")] + [
            (e.pk, f"{e.name}（{e.field}）" if e.field else e.name) for e in experts
        ]


class AdmitForm(forms.Form):
    vetting_note = forms.CharField(
        label="人员审查记录（记入机构名单）", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", required=False, max_length=1000)


class ScoreForm(forms.Form):
    """One field per criterion, named ``c<criterion id>``."""

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        for c in criteria:
            self.fields[f"c{c.pk}"] = forms.CharField(
                label=f"{c.name}（0–{c.weight}分）", required=False, max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )  # fmt: skip


class PasswordForm(forms.Form):
    old_password = forms.CharField(label="原密码", required=False, widget=forms.PasswordInput)
    new_password1 = forms.CharField(label="新密码", required=False, widget=forms.PasswordInput)
    new_password2 = forms.CharField(
        label="再次输入新密码", required=False, widget=forms.PasswordInput
    )
