from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from institutions.models import SUBJECT_CHOICES, Institution, ListChange


class SearchForm(forms.Form):
    """The public search's filters. ``districts``: [(id, name)] the view read once (its
    choices, so validating a district costs no query); the template writes the controls
    from ``controls`` (plain loops: Django's widget templates cost more than the search)."""

    q = forms.CharField(label=_("机构名称"), max_length=50, required=False)
    district = forms.TypedChoiceField(
        label=_("所在区"), coerce=int, required=False, empty_value=None
    )
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

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [
            ("", _("全部区")),
            *((str(pk), name) for pk, name in districts),
        ]

    def controls(self):
        """The four selects as HTML, each (id, label, <select>): written here rather than by
        Django's widget templates or a template loop over the options (those cost more than
        the search itself, bench/whitelist_load.py --profile). The chosen value is what was
        asked when the form is valid, else nothing; the fixed choices' texts are translated
        and escaped once per language and process (they are constants)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        texts = _texts(self)
        out = []
        for name in ("district", "category", "subject", "colour"):
            chosen = "" if data.get(name) in (None, "") else escape(str(data[name]))
            label, options = texts[name]
            html = "".join(
                f'<option value="{value}"{" selected" if value == chosen else ""}>{text}</option>'
                for value, text in options
            )
            out.append((f"id_{name}", label, mark_safe(  # noqa: S308 (escaped above)
                f'<select name="{name}" id="id_{name}">{html}</select>'
            )))  # fmt: skip
        return out


_TEXTS: dict = {}


def _escaped(field):
    return (
        escape(str(field.label)),
        [(escape(str(value)), escape(str(text))) for value, text in field.choices],
    )


def _texts(form):
    """{field: (label, [(value, text)])}, escaped, in the current language; the districts'
    names are the form's own (read by the view), everything else is cached per language."""
    language = get_language()
    if language not in _TEXTS:
        _TEXTS[language] = {
            name: _escaped(form.fields[name]) for name in ("category", "subject", "colour")
        }
    return {**_TEXTS[language], "district": _escaped(form.fields["district"])}
