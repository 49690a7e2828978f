"""One door for every write: no views or admin module writes through the ORM itself.

Reads the source of every views module (``*/views.py``, ``*/*_views.py``) and admin module
(``*/admin.py``, ``*/*_admin.py``) of the apps with ``ast`` and fails on any call of
``.save(``, ``.create(``, ``.update(``, ``.delete(``, ``.bulk_create(``, ``.bulk_update(``,
``.get_or_create(`` or ``.update_or_create(``: those belong in a service of the app, which
opens its transaction, checks the permission and audits. A deliberate exception is listed
in ``ALLOWED`` by (module, function) with its reason.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ["portal", "institutions", "homework", "afterschool", "cases", "governance"]
WRITES = {"save", "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create",
          "update_or_create"}  # fmt: skip

# (module, function) -> why this call is not an ORM write of the page
ALLOWED: dict[tuple[str, str], str] = {
    ("portal.dashboard_views", "report"): "openpyxl Workbook.save into a BytesIO: the download",
    ("afterschool.fee_views", "settlement_xlsx"): "openpyxl Workbook.save into a BytesIO",
    ("homework.views", "class_qr"): "qrcode's SVG image.save into a BytesIO",
}


def modules() -> list[Path]:
    found = set()
    for app in APPS:
        for pattern in ("views.py", "*_views.py", "admin.py", "*_admin.py"):
            found.update((ROOT / app).glob(pattern))
    return sorted(found)


def writes(path: Path, root: Path = ROOT) -> list[tuple[str, str, int, str]]:
    """(module, function, line, call) of every write-named call in the module."""
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name if function == "<module>" else f"{function}.{child.name}"
            elif isinstance(child, ast.ClassDef):
                name = child.name if function == "<module>" else f"{function}.{child.name}"
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in WRITES
            ):
                found.append((module, name, child.lineno, ast.unparse(child.func)))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_the_modules_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in modules()}
    # one of each kind at least, so a moved tree does not pass by finding nothing
    assert {"portal/views.py", "portal/admin.py", "afterschool/fee_views.py",
            "institutions/escrow_admin.py"} <= names  # fmt: skip


def test_the_checker_sees_a_write():
    sample = ROOT / "tests" / "_orm_write_sample.py"
    sample.write_text("def v(request):\n    Room.objects.get_or_create(name='x')\n")
    try:
        assert [(f, c) for _m, f, _l, c in writes(sample)] == [("v", "Room.objects.get_or_create")]
    finally:
        sample.unlink()


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_orm_write_in_a_views_or_admin_module(path):
    found = [
        f"{module}:{line} {function}: {call}(...)"
        for module, function, line, call in writes(path)
        if (module, function.split(".")[0]) not in ALLOWED and (module, function) not in ALLOWED
    ]
    assert not found, "writes outside the services:\n" + "\n".join(found)


def test_every_allowed_exception_still_exists():
    present = {(m, f) for p in modules() for m, f, _l, _c in writes(p)}
    present |= {(m, f.split(".")[0]) for m, f in present}
    assert not set(ALLOWED) - present, f"stale ALLOWED entries: {set(ALLOWED) - present}"
