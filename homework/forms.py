from django import forms
from django.utils.translation import gettext_lazy as _

from homework.models import SUBJECTS, HomeworkItem, Inspection, Survey, SurveyAnswer
from portal.models import Child

# free text kept in a TextField (a summary, an issue list, a follow-up): bounded all the same
TEXT_MAX = 5000


class HomeworkForm(forms.Form):
    subject = forms.ChoiceField(
        label=_("学科"), choices=[("", "—")] + [(s, s) for s in SUBJECTS],
        error_messages={"required": _("请选择学科。")},
    )  # fmt: skip
    content = forms.CharField(
        label=_("作业内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("请填写作业内容。"),
            "max_length": _("作业内容不超过2000字。"),
        },
    )
    minutes = forms.IntegerField(
        label=_("预计用时（分钟）"),
        min_value=1,
        max_value=300,
        error_messages={
            "required": _("请填写预计用时。"),
            "invalid": _("预计用时应为整数分钟。"),
            "min_value": _("预计用时至少1分钟。"),
            "max_value": _("预计用时不能超过300分钟。"),
        },
    )
    kind = forms.ChoiceField(label=_("类型"), choices=HomeworkItem.Kind.choices, initial="basic")
    required = forms.TypedChoiceField(
        label=_("必做/选做"),
        choices=[("1", _("必做")), ("0", _("选做"))],
        coerce=lambda v: v == "1",
        initial="1",
    )
    written = forms.TypedChoiceField(
        label=_("形式"),
        choices=[("1", _("书面")), ("0", _("非书面（口头、实践等）"))],
        coerce=lambda v: v == "1",
        initial="1",
    )
    layer = forms.CharField(
        label=_("分层（可选）"), required=False,
        max_length=HomeworkItem._meta.get_field("layer").max_length,
        error_messages={"max_length": _("分层不超过%(limit_value)d个字。")},
    )  # fmt: skip
    design_layer = forms.TypedChoiceField(
        label=_("选用作业设计（可选：内容、用时取自所选分层）"), required=False, coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("作业设计：只能选用本校或区推广的已审核作业设计。")},
    )  # fmt: skip

    def __init__(self, *args, layers=None, **kwargs):
        """``layers``: the design layers the teacher may pick (homework/design_selectors.py);
        none: the form has no picker, content and minutes are required as always."""
        super().__init__(*args, **kwargs)
        if not layers:
            del self.fields["design_layer"]
            return
        self.fields["design_layer"].choices = [("", "（不选用）")] + [
            (x.pk, f"{x.design.subject} · {x.design.unit} · {x.design.title} · "
                   f"{x.get_level_display()}（{x.minutes}分钟）")
            for x in layers
        ]  # fmt: skip
        # a picked layer brings its content and minutes: required only without one (clean)
        self.fields["content"].required = False
        self.fields["minutes"].required = False

    def clean(self):
        data = super().clean()
        if "design_layer" in self.fields and not data.get("design_layer"):
            for name in ("content", "minutes"):
                if name not in self.errors and data.get(name) in (None, ""):
                    self.add_error(name, self.fields[name].error_messages["required"])
        return data


class ReportForm(forms.Form):
    child = forms.ModelChoiceField(
        label=_("孩子"),
        queryset=Child.objects.none(),
        error_messages={
            "required": _("请选择孩子。"),
            "invalid_choice": _("只能为自己的孩子反馈。"),
        },
    )
    date = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请选择日期。"), "invalid": _("日期格式应为 年-月-日。")},
    )
    minutes = forms.IntegerField(
        label=_("实际完成书面作业用时（分钟）"),
        min_value=0,
        max_value=600,
        error_messages={
            "required": _("请填写用时。"),
            "invalid": _("用时应为整数分钟。"),
            "max_value": _("用时不能超过600分钟。"),
            "min_value": _("用时不能为负数。"),
        },
    )

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children


class SurveyAnswerForm(forms.Form):
    load = forms.ChoiceField(
        label=_("您觉得孩子的作业量"),
        choices=SurveyAnswer.Load.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择作业量感受。")},
    )
    typical_minutes = forms.IntegerField(
        label=_("孩子每天完成书面作业大约用时（分钟）"),
        min_value=0,
        max_value=600,
        error_messages={"required": _("请填写大约用时。"), "invalid": _("用时应为整数分钟。")},
    )


class SurveyForm(forms.Form):
    school_class = forms.ModelChoiceField(
        label=_("班级"),
        queryset=None,
        empty_label=None,
        error_messages={
            "required": _("请选择班级。"),
            "invalid_choice": _("只能为本校的班级发起问卷。"),
        },
    )
    title = forms.CharField(
        label=_("标题"), max_length=Survey._meta.get_field("title").max_length,
        error_messages={"required": _("请填写问卷标题。"),
                        "max_length": _("问卷标题不超过%(limit_value)d个字。")},
    )  # fmt: skip
    start = forms.DateField(
        label=_("开始日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请选择开始日期。")},
    )
    end = forms.DateField(
        label=_("结束日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请选择结束日期。")},
    )

    def __init__(self, *args, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data


class InspectionForm(forms.Form):
    date = forms.DateField(
        label=_("检查日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请选择检查日期。")},
    )
    classes = forms.ModelMultipleChoiceField(
        label=_("抽查班级"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("只能选择本校的班级。"),
            "invalid_pk_value": _("班级选择有误，请重新选择。"),
        },
    )
    summary = forms.CharField(
        label=_("检查情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
        error_messages={"required": _("请填写检查情况。"),
                        "max_length": _("检查情况不超过%(limit_value)d字。")},
    )  # fmt: skip
    issues = forms.CharField(
        label=_("发现的问题（每行一条，可不填）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=TEXT_MAX,
        error_messages={"max_length": _("发现的问题不超过%(limit_value)d字。")},
    )

    def __init__(self, *args, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classes"].queryset = classes


class CloseIssueForm(forms.Form):
    follow_up = forms.CharField(
        label=_("整改情况"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=TEXT_MAX,
        error_messages={"required": _("关闭问题前请填写整改情况。"),
                        "max_length": _("整改情况不超过%(limit_value)d字。")},
    )  # fmt: skip


LEVELS = Inspection.Level
