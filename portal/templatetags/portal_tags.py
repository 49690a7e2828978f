from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix
from django.utils import translation

register = template.Library()


@register.filter
def get_item(mapping, key):
    """{{ labels|get_item:key }}: a dict lookup with a variable key."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


# --- {% memo %}: a fragment rendered once per language --------------------------------------

_MEMO: dict = {}
_MEMO_LIMIT = 256


class MemoNode(template.Node):
    def __init__(self, name, nodelist):
        self.name, self.nodelist = name, nodelist

    def render(self, context):
        key = (self.name, translation.get_language(), get_script_prefix())
        out = _MEMO.get(key)
        if out is None:
            out = self.nodelist.render(context)
            if len(_MEMO) < _MEMO_LIMIT:
                _MEMO[key] = out
        return out


@register.tag
def memo(parser, token):
    """``{% memo "footer" %}…{% endmemo %}``: the block rendered once per name, language and
    script prefix in this process, then reused (base.html's links and static texts: their
    ``{% url %}``, ``{% static %}`` and ``{% translate %}`` tags cost a public page more than
    its search). Only for what depends on nothing but the language: never a user, a
    request, a CSRF token or a form."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError('{% memo "name" %} takes one quoted name')
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(bits[1][1:-1], nodelist)


@receiver(setting_changed)
def _forget_memos(**kwargs):
    _MEMO.clear()
