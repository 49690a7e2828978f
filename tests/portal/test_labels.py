"""Every name a Chinese user reads in the admin and the forms is Chinese.

The walk covers every app of the project itself (each app whose code lives in this
repository, found through ``apps.get_app_configs()``: portal, homework, afterschool,
institutions, cases and any app added later) and every ModelAdmin registered on the admin
site for a model of those apps. It reads what the admin shows:

- the app's verbose name (the section heading; it must not end in 管理, which Django's
  app page appends itself: "作业管理 管理");
- each model's verbose_name and verbose_name_plural, and its custom permissions' names;
- each field's verbose_name (foreign keys, many-to-many, automatic timestamps included),
  and each choice label;
- each ModelAdmin's list_display columns, readonly fields, list_filter titles, actions'
  descriptions and fieldset titles, and the same for its inlines.

Out of scope: Django's own models (auth.User, auth.Group, contenttypes, sessions, the
Celery beat tables...). Their names come translated from Django's own zh-hans catalogue
("用户", "组"); the portal's pages never show their field names. Automatic primary keys
("ID") are left out too: Django creates them and no page lists them by name.
"""

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, label_for_field
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.exceptions import FieldDoesNotExist
from django.utils import translation

CHINESE = re.compile(r"[\u3400-\u9fff]")
BASE = Path(settings.BASE_DIR).resolve()


def project_apps():
    """The apps whose code is in this repository (not Django's, not a package's)."""
    found = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if BASE in path.parents and ".venv" not in path.parts:
            found.append(config)
    return found


def has_chinese(text) -> bool:
    return bool(CHINESE.search(str(text)))


def model_labels(model):
    """(where, label) for everything of ``model`` that a user reads."""
    name = f"{model._meta.label}"
    yield f"{name} verbose_name", model._meta.verbose_name
    yield f"{name} verbose_name_plural", model._meta.verbose_name_plural
    for codename, perm_name in model._meta.permissions:
        yield f"{name} permission {codename}", perm_name
    for field in model._meta.get_fields(include_hidden=False):
        if field.auto_created and not field.concrete:
            continue  # reverse relations: named on the other side
        if getattr(field, "primary_key", False) and field.auto_created:
            continue  # Django's automatic id
        if isinstance(field, GenericForeignKey) or not hasattr(field, "verbose_name"):
            continue  # GenericForeignKey: no label of its own; its two fields have one
        yield f"{name}.{field.name}", field.verbose_name
        for value, label in getattr(field, "flatchoices", None) or []:
            yield f"{name}.{field.name} choice {value!r}", label


def filter_title(model, model_admin, entry):
    if isinstance(entry, tuple | list):
        entry = entry[0]
    if isinstance(entry, str):
        try:
            fields = get_fields_from_path(model, entry)
        except FieldDoesNotExist:
            return entry
        last = fields[-1]
        return getattr(last, "verbose_name", None) or last.related_model._meta.verbose_name
    return entry.title  # a SimpleListFilter (or a FieldListFilter class given alone)


def admin_labels(model, model_admin):
    name = f"{type(model_admin).__name__}({model._meta.label})"
    for item in [*model_admin.list_display]:
        if item == "action_checkbox":
            continue
        yield f"{name} list_display {item!r}", label_for_field(item, model, model_admin)
    for item in model_admin.readonly_fields:
        yield f"{name} readonly {item!r}", label_for_field(item, model, model_admin)
    for entry in model_admin.list_filter:
        yield f"{name} list_filter {entry!r}", filter_title(model, model_admin, entry)
    for action in model_admin.actions or []:
        func = getattr(model_admin, action) if isinstance(action, str) else action
        action_name = action if isinstance(action, str) else action.__name__
        description = model_admin._get_action_description(func, action_name)
        yield f"{name} action {action_name}", description
    for title, _options in model_admin.fieldsets or []:
        if title is not None:
            yield f"{name} fieldset", title
    for inline in model_admin.inlines:
        for item in inline.readonly_fields:
            yield (
                f"{name} inline {inline.__name__} readonly {item!r}",
                label_for_field(item, inline.model, inline),
            )
        for title, _options in inline.fieldsets or []:
            if title is not None:
                yield f"{name} inline {inline.__name__} fieldset", title


def missing(pairs):
    return [f"{where}: {label!r}" for where, label in pairs if not has_chinese(label)]


def test_the_walk_sees_every_app_of_the_project():
    names = {config.label for config in project_apps()}
    assert {"portal", "homework", "afterschool", "institutions", "cases"} <= names
    assert "auth" not in names and "admin" not in names


def test_every_app_has_a_chinese_name_that_does_not_double_the_admins_guanli():
    with translation.override("zh-hans"):
        bad = [
            f"{config.label}: {config.verbose_name!r}"
            for config in project_apps()
            if not has_chinese(config.verbose_name) or str(config.verbose_name).endswith("管理")
        ]
    assert not bad, "apps without a Chinese name (or ending in 管理):\n" + "\n".join(bad)


def test_every_model_field_and_choice_has_a_chinese_name():
    with translation.override("zh-hans"):
        bad = []
        for config in project_apps():
            for model in config.get_models():
                bad += missing(model_labels(model))
    assert not bad, f"{len(bad)} labels without Chinese:\n" + "\n".join(bad)


def test_every_admin_column_filter_action_and_fieldset_has_a_chinese_name():
    labels = {config.label for config in project_apps()}
    with translation.override("zh-hans"):
        bad = []
        seen = 0
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label not in labels:
                continue
            seen += 1
            bad += missing(admin_labels(model, model_admin))
    assert seen > 20  # the walk really reached the project's admins
    assert not bad, f"{len(bad)} admin labels without Chinese:\n" + "\n".join(bad)


def test_the_walk_catches_a_field_without_a_chinese_name():
    """The checker itself: an English verbose name and a bare field name are caught."""
    from django.db import models

    class Probe(models.Model):
        colour = models.CharField(max_length=10)
        named = models.CharField("名称", max_length=10, choices=[("a", "A")])

        class Meta:
            app_label = "portal"
            verbose_name = "probe"

        def __str__(self):
            return self.colour

    try:
        found = missing(model_labels(Probe))
    finally:
        apps.all_models["portal"].pop("probe", None)
        apps.clear_cache()
    assert any("Probe verbose_name:" in row for row in found)
    assert any(".colour:" in row for row in found)
    assert any("choice 'a'" in row for row in found)
    assert not any(".named:" in row for row in found)


# --- audit actions in words ------------------------------------------------------------------


# Codes built at run time: the pattern as written in the source, and every value it can take.
# A new f-string code in an audit_record() call fails the test until it is listed here.
def dynamic_codes():
    from afterschool.lesson_models import LeaveRequest
    from afterschool.models import Enrolment
    from institutions.models import Institution
    from portal.models import Finding, SchoolPeriod

    sanction_kinds = []
    try:
        from institutions.enforcement_models import Sanction

        sanction_kinds = [k.value for k in Sanction.Kind]
    except ImportError:  # the enforcement module is optional while it is being written
        pass
    governance = Institution.Governance
    return {
        "portal.term.{}": [s.value for s in SchoolPeriod.Status if s != SchoolPeriod.Status.DRAFT],
        "portal.finding.{}": [
            *[w.value for w in Finding.Workflow if w != Finding.Workflow.NEW],
            "returned",
        ],
        "afterschool.enrolment.{}": [s.value for s in Enrolment.Status],
        "afterschool.leave.{}": [
            LeaveRequest.Status.APPROVED.value,
            LeaveRequest.Status.REJECTED.value,
        ],
        "afterschool.plan.{}": ["submitted", "approved", "returned", "started", "closed"],
        "afterschool.lesson.{}": ["in", "out"],
        "institutions.governance.{}": [
            g.value for g in governance if g not in (governance.NOT_APPLICABLE,)
        ],
        "institutions.{}.{}": [
            f"{model}.{verb}"
            for model in ("supervisedaccount", "annualreview")
            for verb in ("added", "changed", "deleted")
        ],
        "institutions.sanction.{}": sanction_kinds,
        "institutions.complaint.{}": [
            "accepted",
            "rejected",
            "assigned",
            "answered",
            "returned",
            "closed",
        ],
    }


# Calls whose action is neither a literal nor an f-string, and how their codes are known.
GENERIC_CALLS = {"_action", "_inline_action"}  # "<app>.<model>.<verb>" of any model


def audit_calls():
    """(file, action expression) for every audit_record() call in the project's apps."""
    import ast

    for config in project_apps():
        for path in sorted(Path(config.path).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name not in AUDITING_CALLS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        yield path.relative_to(BASE), keyword.value


# audit_record, and the helpers that pass their caller's code on to it (portal/designations.py:
# their own ``action`` is a parameter, the callers' codes are read at the call)
AUDITING_CALLS = {"audit_record", "create_audited", "designate", "undesignate"}
FORWARDERS = {"portal/designations.py"}


def constants(expr) -> list:
    """The codes of a literal, or of each branch of ``a if cond else b``."""
    import ast

    if isinstance(expr, ast.IfExp):
        return [*constants(expr.body), *constants(expr.orelse)]
    if isinstance(expr, ast.Constant):
        return [expr.value]
    return [f"<unreadable {ast.unparse(expr)}>"]


def pattern_of(joined) -> str:
    import ast

    return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in joined.values)


def test_every_audit_action_code_in_the_code_base_has_chinese_words():
    import ast

    from portal.audit import action_words

    dynamic = dynamic_codes()
    bad, literal = [], 0
    for path, expr in audit_calls():
        if isinstance(expr, ast.Constant | ast.IfExp):
            literal += 1
            codes = constants(expr)
        elif isinstance(expr, ast.JoinedStr):
            pattern = pattern_of(expr)
            if pattern not in dynamic:
                bad.append(f"{path}: f-string code {pattern!r} not listed in dynamic_codes()")
                continue
            if pattern == "institutions.{}.{}":
                codes = [f"institutions.{v}" for v in dynamic[pattern]]
            else:
                codes = [pattern.format(v) for v in dynamic[pattern]]
        elif isinstance(expr, ast.Name) and str(path) in FORWARDERS:
            continue  # a parameter passed on: its callers' codes are checked
        elif isinstance(expr, ast.Call) and getattr(expr.func, "id", "") in GENERIC_CALLS:
            continue  # checked for every model below
        elif isinstance(expr, ast.Subscript) and ast.unparse(expr.value) == "ACTIONS":
            from cases.services import ACTIONS

            codes = list(ACTIONS.values())
        else:
            bad.append(f"{path}: action code {ast.unparse(expr)!r} cannot be read")
            continue
        with translation.override("zh-hans"):
            bad += [f"{path}: {c}" for c in codes if not has_chinese(action_words(c) or "")]
    assert literal > 80  # the walk really read the code base
    assert not bad, "audit action codes without words in portal.audit.ACTION_WORDS:\n" + "\n".join(
        sorted(set(bad))
    )


def test_the_admins_generic_codes_read_as_verb_and_model_name():
    from portal.audit import GENERIC_VERBS, action_display

    with translation.override("zh-hans"):
        assert action_display("afterschool.offering.changed") == "修改课后服务课程"
        assert action_display("portal.school.deleted") == "删除学校"
        for config in project_apps():
            for model in config.get_models():
                for verb in GENERIC_VERBS:
                    code = f"{model._meta.app_label}.{model._meta.model_name}.{verb}"
                    assert has_chinese(action_display(code)), code
        # an unknown code is shown as it is, never as something it is not
        assert action_display("portal.nothing.happened") == "portal.nothing.happened"
        assert action_display("portal.school.exploded") == "portal.school.exploded"


def test_the_audit_log_admin_shows_words_not_codes(db, admin_client):
    from django.db import transaction

    from portal.audit import audit_record
    from portal.models import AuditLog

    with transaction.atomic():
        audit_record(actor=None, action="afterschool.bill.issued")
    response = admin_client.get("/admin/portal/auditlog/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "开具课后服务账单" in page
    assert ">afterschool.bill.issued<" not in page  # neither in the column nor the filter
    row = AuditLog.objects.get()
    detail = admin_client.get(f"/admin/portal/auditlog/{row.pk}/change/").content.decode()
    assert "开具课后服务账单" in detail


def test_the_teachers_course_form_names_the_plan_and_the_weekday_in_chinese(db):
    from afterschool.views import OfferingForm
    from tests.factories import SchoolFactory

    with translation.override("zh-hans"):
        form = OfferingForm(school=SchoolFactory())
        assert form["plan"].label == "课后服务方案"
        assert form["weekday"].label == "星期"
        html = str(form["weekday"])
    assert "周一" in html and "周日" in html and "0=周一" not in html
    for config in project_apps():  # no form label of any model says "0=…" any more
        for model in config.get_models():
            for field in model._meta.concrete_fields:
                assert "（0=" not in str(field.verbose_name), field
