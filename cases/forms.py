from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import THEME_CHOICES, Case


class SearchForm(forms.Form):
    q = forms.CharField(label=_("关键词"), max_length=100, required=False)
    theme = forms.ChoiceField(
        label=_("主题"), choices=[("", _("全部主题")), *THEME_CHOICES], required=False
    )
    place = forms.CharField(label=_("地区"), max_length=30, required=False)
    year = forms.TypedChoiceField(label=_("年份"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("全部年份")), *[(y, str(y)) for y in years]]


class CaseForm(forms.Form):
    title = forms.CharField(
        label=_("标题"),
        max_length=300,
        error_messages={"required": _("请填写案例标题。"), "max_length": _("标题不能超过300字。")},
    )
    themes = forms.MultipleChoiceField(
        label=_("主题（最多选4个）"),
        choices=THEME_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个主题。")},
    )
    body = forms.CharField(
        label=_("正文"),
        widget=forms.Textarea(attrs={"rows": 14}),
        min_length=200,
        max_length=20000,
        error_messages={
            "required": _("请填写案例正文。"),
            "min_length": _("正文太短：典型案例至少写200字，说明做法与成效。"),
            "max_length": _("正文不能超过2万字。"),
        },
    )

    def clean_themes(self):
        themes = self.cleaned_data["themes"]
        if len(themes) > 4:
            raise forms.ValidationError(_("主题最多选4个。"))
        return themes


class ReviewForm(forms.Form):
    to = forms.ChoiceField(
        label=_("处理"),
        choices=[
            (Case.Status.RETURNED, _("退回修改")),
            (Case.Status.SELECTED, _("遴选")),
            (Case.Status.PUBLISHED, _("推广发布")),
        ],
        error_messages={"required": _("请选择处理方式。")},
    )
    comment = forms.CharField(
        label=_("审核意见"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
        max_length=5000, error_messages={"max_length": _("审核意见不超过%(limit_value)d字。")},
    )  # fmt: skip


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("案例集文件（.txt）"),
        error_messages={"required": _("请选择要导入的文件。"), "empty": _("文件是空的。")},
    )


class CaseAdminForm(forms.ModelForm):
    """The admin's case form: the same text twice is refused at the field (the service
    refuses it too; this keeps what was typed)."""

    class Meta:
        model = Case
        fields = ["title", "province", "city", "district", "place", "unit", "themes",
                  "theme_source", "published_on", "body"]  # fmt: skip

    def clean_body(self):
        from cases.parsing import content_hash

        body = self.cleaned_data["body"]
        other = (
            Case.objects.filter(content_hash=content_hash(body))
            .exclude(pk=self.instance.pk)
            .only("title")
            .first()
        )
        if other is not None:
            raise forms.ValidationError(
                _("案例库中已有正文相同的案例“%(title)s”。"), params={"title": other.title[:60]}
            )
        return body
