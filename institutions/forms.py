"""The public search's filters, parsed by hand: the page is the register's busiest, and a
Django form (its fields deep-copied and their choices normalised for every request) cost it
more than its search (bench/whitelist_load.py --profile)."""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from institutions.models import SUBJECT_CHOICES, Institution, ListChange

Q_MAX_LENGTH = 50
# field: (label, choices); the districts' choices are the view's
_CHOICES = {
    "district": (_("所在区"), [("", _("全部区"))]),
    "category": (_("类别"), [("", _("全部类别")), *Institution.Category.choices]),
    "subject": (_("科目"), [("", _("全部科目")), *SUBJECT_CHOICES]),
    "colour": (_("名单"), [("", _("全部")), *ListChange.Colour.choices]),
}
_VALUES = {name: {str(v) for v, _t in choices} for name, (_l, choices) in _CHOICES.items()}
_TEXTS: dict = {}


class SearchForm:
    """What a Django form of these fields would decide, for the GET of the search page:
    valid when the name has at most 50 characters (and no NUL) and each filter is empty or
    one of its choices (a district by id among ``districts``, [(id, name)] the view read
    once); an invalid form applies no filter. ``cleaned_data`` as the form's: q stripped,
    district an int or None, the others strings. ``controls()`` writes the selects."""

    q_label = _("机构名称")

    def __init__(self, data=None, *, districts=()):
        self.data = data or {}
        self.is_bound = data is not None
        self.districts = list(districts)
        self.cleaned_data = {}
        self._valid = self.is_bound and self._clean()

    def _clean(self) -> bool:
        q = str(self.data.get("q", "") or "").strip()
        if len(q) > Q_MAX_LENGTH or "\x00" in q:
            return False
        cleaned = {"q": q}
        district = str(self.data.get("district", "") or "")
        if district and district not in {str(pk) for pk, _name in self.districts}:
            return False
        cleaned["district"] = int(district) if district else None
        for name in ("category", "subject", "colour"):
            value = str(self.data.get(name, "") or "")
            if value not in _VALUES[name]:
                return False
            cleaned[name] = value
        self.cleaned_data = cleaned
        return True

    def is_valid(self) -> bool:
        return self._valid

    @property
    def q_value(self) -> str:
        """What was typed (kept when the form is refused), for the input's value."""
        return str(self.data.get("q", "") or "")

    def controls(self):
        """The four selects as HTML, each (id, label, <select>). The chosen value is what was
        asked when the form is valid, else nothing; the fixed choices' texts are translated
        and escaped once per language and process (they are constants)."""
        data = self.cleaned_data if self._valid else {}
        texts = _texts(self.districts)
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


def _escaped(label, choices):
    return escape(str(label)), [(escape(str(value)), escape(str(text))) for value, text in choices]


def _texts(districts):
    """{field: (label, [(value, text)])}, escaped, in the current language; the districts'
    names are the view's, everything else is cached per language."""
    language = get_language()
    if language not in _TEXTS:
        _TEXTS[language] = {name: _escaped(*_CHOICES[name]) for name in _CHOICES}
    label, (everything,) = _CHOICES["district"][0], _CHOICES["district"][1]
    return {
        **_TEXTS[language],
        "district": _escaped(label, [everything, *((str(pk), n) for pk, n in districts)]),
    }
