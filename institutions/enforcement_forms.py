"""Forms of the enforcement staff pages: they parse; the rules are the services'
(institutions/enforcement.py), whose refusals come back onto the form (errors_to_form)."""

from django import forms

from institutions.enforcement_models import CHECKLIST, PatrolSite, Sanction
from institutions.models import Complaint, Institution
from portal.models import District
from portal.permissions import bureau_of_line

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(label, required=True):
    return forms.DateField(
        label=label, widget=DATE, required=required,
        error_messages={"required": f"请填写{label}。",
                        "invalid": f"{label}格式不对（年-月-日）。"},
    )  # fmt: skip


class RoundForm(forms.Form):
    name = forms.CharField(label="专项整治名称", max_length=200,
                           error_messages={"required": "请填写专项整治名称。"})  # fmt: skip
    starts_on = _date("开始日期")
    ends_on = _date("结束日期")


class GroupForm(forms.Form):
    name = forms.CharField(label="检查组名称", max_length=100,
                           error_messages={"required": "请填写检查组名称。"})  # fmt: skip
    inspectors = forms.ModelMultipleChoiceField(
        label="检查人员", queryset=None, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "检查组至少要有一名检查人员。",
                        "invalid_choice": "检查人员须为本局校外培训条线的工作人员。"},
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = bureau_of_line("institutions").order_by("username")
        self.fields["inspectors"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )


class DrawForm(forms.Form):
    district = forms.ModelChoiceField(
        label="区", queryset=District.objects.order_by("code"), required=False,
        empty_label="全部区", error_messages={"invalid_choice": "所选区不存在，请重新选择。"},
    )  # fmt: skip
    category = forms.ChoiceField(
        label="类别", choices=[("", "全部类别"), *Institution.Category.choices], required=False,
        error_messages={"invalid_choice": "类别不存在，请重新选择。"},
    )  # fmt: skip
    count = forms.IntegerField(
        label="随机抽取家数（不填则全部检查）", min_value=1, required=False,
        error_messages={"min_value": "随机抽取家数须为正整数（不填则全部检查）。",
                        "invalid": "随机抽取家数须为正整数（不填则全部检查）。"},
    )  # fmt: skip
    seed = forms.IntegerField(
        label="随机种子（不填则自动生成并记录）", min_value=0, max_value=2**63 - 1,
        required=False,
        error_messages={"min_value": "随机种子须为非负整数。", "max_value": "随机种子过大。",
                        "invalid": "随机种子须为非负整数。"},
    )  # fmt: skip


RESULT_CHOICES = [("pass", "合格"), ("fail", "不合格")]


class VisitForm(forms.Form):
    """The checklist on a phone: a result, a note and photos for each item."""

    date = _date("检查日期")
    note = forms.CharField(
        label="检查情况", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for item in CHECKLIST:
            self.fields[f"result_{item.value}"] = forms.ChoiceField(
                label=item.label, choices=RESULT_CHOICES, required=False,
                widget=forms.RadioSelect,
            )  # fmt: skip
            self.fields[f"note_{item.value}"] = forms.CharField(
                label=f"{item.label}：说明", required=False, max_length=500
            )

    def items(self):
        """(label, result field, note field, photo input name) of each item, for the page."""
        return [
            (item.label, self[f"result_{item.value}"], self[f"note_{item.value}"],
             f"photos_{item.value}")
            for item in CHECKLIST
        ]  # fmt: skip

    def results(self) -> dict:
        data = self.cleaned_data
        out = {}
        for item in CHECKLIST:
            value = data.get(f"result_{item.value}")
            out[item.value] = (
                {"pass": True, "fail": False}.get(value),
                data.get(f"note_{item.value}", ""),
            )
        return out


class PatrolForm(forms.Form):
    name = forms.CharField(label="场所名称", max_length=200,
                           error_messages={"required": "请填写场所名称。"})  # fmt: skip
    address = forms.CharField(label="地址", max_length=300,
                              error_messages={"required": "请填写无证场所的地址。"})  # fmt: skip
    district = forms.ModelChoiceField(
        label="所在区", queryset=District.objects.order_by("code"),
        error_messages={"required": "请选择所在区。", "invalid_choice": "所选区不存在。"},
    )  # fmt: skip
    found_on = _date("发现日期")
    outcome = forms.ChoiceField(
        label="处理结果", choices=PatrolSite.Outcome.choices,
        error_messages={"required": "请选择处理结果（取缔或移交）。",
                        "invalid_choice": "请选择处理结果（取缔或移交）。"},
    )  # fmt: skip
    handed_to = forms.CharField(label="移交部门", max_length=100, required=False)
    note = forms.CharField(
        label="情况说明", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InterviewForm(forms.Form):
    date = _date("约谈日期")
    attendees = forms.CharField(label="参加人员", max_length=500,
                                error_messages={"required": "请填写参加约谈的人员。"})  # fmt: skip
    problems = forms.CharField(
        label="存在问题", widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写约谈指出的问题。"},
    )  # fmt: skip
    deadline = _date("整改期限")
    visit = forms.ModelChoiceField(label="来源检查记录", queryset=None, required=False,
                                   empty_label="（无）")  # fmt: skip

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = institution.visits.order_by("-date", "-id")


class SanctionForm(forms.Form):
    kind = forms.ChoiceField(label="处理类型", choices=Sanction.Kind.choices,
                             error_messages={"required": "请选择处理类型。"})  # fmt: skip
    decided_on = _date("决定日期")
    reason = forms.CharField(label="违规事实", widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "请填写违规事实。"})  # fmt: skip
    deadline = _date("整改期限（责令整改必填）", required=False)
    complaint = forms.ModelChoiceField(label="来源：举报", queryset=None, required=False,
                                       empty_label="（无）")  # fmt: skip
    visit = forms.ModelChoiceField(label="来源：检查记录", queryset=None, required=False,
                                   empty_label="（无）")  # fmt: skip
    interview = forms.ModelChoiceField(label="来源：约谈", queryset=None, required=False,
                                       empty_label="（无）")  # fmt: skip
    finding = forms.ModelChoiceField(label="来源：检查发现", queryset=None, required=False,
                                     empty_label="（无）")  # fmt: skip

    def __init__(self, *args, institution, findings, **kwargs):
        super().__init__(*args, **kwargs)
        # a complaint by its received date and category only: no complainant on the page
        self.fields["complaint"].queryset = Complaint.objects.filter(
            institution=institution
        ).order_by("-received_at", "-id")
        self.fields["complaint"].label_from_instance = lambda c: (
            f"{c.received_at:%Y-%m-%d} {c.get_category_display()}"
        )
        self.fields["visit"].queryset = institution.visits.order_by("-date", "-id")
        self.fields["interview"].queryset = institution.interviews.order_by("-date", "-id")
        self.fields["finding"].queryset = findings
        self.fields["finding"].label_from_instance = lambda f: f.message[:60]


class SanctionCloseForm(forms.Form):
    closed_on = _date("整改完成日期")
    note = forms.CharField(
        label="整改完成情况", max_length=500,
        error_messages={"required": "请填写整改完成情况（如复查结论）。"},
    )  # fmt: skip


class NoticeForm(forms.Form):
    title = forms.CharField(label="通报标题", max_length=200,
                            error_messages={"required": "请填写通报标题。"})  # fmt: skip
    date = _date("通报日期")
    body = forms.CharField(
        label="通报正文", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
