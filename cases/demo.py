"""Demo data of the case library: the published collections shipped in cases/demo_data/
(copies of shared/seeds, public documents). Importing twice changes nothing."""

from pathlib import Path

from cases.services import document_import

DATA = Path(__file__).resolve().parent / "demo_data"


def load_demo() -> list[str]:
    lines = []
    for path in sorted(DATA.glob("*.txt")):
        result = document_import(text=path.read_text(encoding="utf-8"), filename=path.name)
        if result.created:
            lines.append(f"典型案例：导入《{result.document.title}》{result.cases} 个案例")
    return lines
