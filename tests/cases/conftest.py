from pathlib import Path

import pytest

from cases.services import document_import

# the published collections beside the checkout (shared/seeds), else the copies the demo
# ships (cases/demo_data)
_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEEDS = _SHARED if _SHARED.is_dir() else Path(__file__).resolve().parents[2] / "cases" / "demo_data"
SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))


def seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


@pytest.fixture
def seeded(db):
    """All published seed collections, imported."""
    return {name: document_import(text=seed_text(name), filename=name) for name in SEED_FILES}
