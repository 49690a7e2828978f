"""Forms of the institution's side (机构端) and of the bureau's queues: they parse what was
typed; the rules are the services' (institutions/accounts.py, institutions/services.py),
whose messages are put back on the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.account_models import InstitutionStaff


class AccountNewForm(forms.Form):
    username = forms.CharField(
        label=_("登录账号"), max_length=150,
        error_messages={"required": _("请填写登录账号。")},
        help_text=_("字母、数字或 @/./+/-/_，如机构简称的拼音。"),
    )  # fmt: skip
    name = forms.CharField(
        label=_("管理员姓名"), max_length=50, error_messages={"required": _("请填写姓名。")}
    )


class StaffAddForm(forms.Form):
    username = forms.CharField(
        label=_("登录账号"), max_length=150, error_messages={"required": _("请填写登录账号。")}
    )
    name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名。")}
    )
    role = forms.ChoiceField(
        label=_("角色"), choices=[("", _("请选择")), *InstitutionStaff.Role.choices],
        error_messages={"required": _("请选择角色（管理员、教务/前台或财务）。"),
                        "invalid_choice": _("请选择角色（管理员、教务/前台或财务）。")},
    )  # fmt: skip


class AccountRequestForm(forms.Form):
    contact_name = forms.CharField(
        label=_("联系人姓名"), max_length=50, error_messages={"required": _("请填写联系人姓名。")}
    )
    contact_phone = forms.CharField(
        label=_("联系电话"), max_length=20, error_messages={"required": _("请填写联系电话。")}
    )
    note = forms.CharField(
        label=_("说明（选填，如职务、办公地址）"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    # the honeypot: hidden from people, filled by bots
    website = forms.CharField(
        label=_("网址"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )  # fmt: skip

    @property
    def trapped(self) -> bool:
        return bool((self.data.get("website") or "").strip())


DECISIONS = [("approve", _("通过")), ("reject", _("不通过"))]


class RequestDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("处理"), choices=DECISIONS,
        error_messages={"required": _("请选择通过或不通过。"),
                        "invalid_choice": _("请选择通过或不通过。")},
    )  # fmt: skip
    username = forms.CharField(label=_("登录账号（通过时填写）"), max_length=150, required=False)
    name = forms.CharField(label=_("管理员姓名（默认为联系人）"), max_length=50, required=False)
    reason = forms.CharField(
        label=_("不通过理由"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip


class FilingDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核"), choices=[("approve", _("通过备案")), ("return", _("退回"))],
        error_messages={"required": _("请选择通过备案或退回。"),
                        "invalid_choice": _("请选择通过备案或退回。")},
    )  # fmt: skip
    reason = forms.CharField(
        label=_("退回理由"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip


class PasswordForm(forms.Form):
    """Parses the three passwords; the rules (old one right, validators, both alike) are
    the service's (accounts.password_change, through Django's PasswordChangeForm)."""

    old_password = forms.CharField(
        label=_("原密码（或初始密码）"), strip=False, widget=forms.PasswordInput,
        error_messages={"required": _("请填写原密码。")},
    )  # fmt: skip
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput,
        error_messages={"required": _("请填写新密码。")},
    )  # fmt: skip
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput,
        error_messages={"required": _("请再次输入新密码。")},
    )  # fmt: skip
