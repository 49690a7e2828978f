"""tools/verify_draw.py, run as anyone would run it (a subprocess, standard library only),
on the JSON the portal serves: it agrees with the portal, and it notices tampering."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from governance import draw as draws
from tests.governance.draw_helpers import drawn, junior_school, published

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_draw.py"


def _verify(source) -> subprocess.CompletedProcess:
    # -I: isolated, no site-packages, no project on the path: the standard library only
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(source)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _served(client, draw, tmp_path, change=None) -> Path:
    data = client.get(f"/draw/{draw.pk}/draw.json").json()
    if change:
        change(data)
    path = tmp_path / f"draw-{draw.pk}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _classes_printed(stdout: str) -> list[list[int]]:
    rows = [line for line in stdout.splitlines() if line.startswith("    ")]
    return [[int(item.split(".")[0]) for item in row.split()] for row in rows]


@pytest.mark.django_db
@pytest.mark.parametrize("n,classes", [(40, 4), (37, 5), (2, 2)])
def test_the_script_agrees_with_the_portal(world, client, tmp_path, n, classes):
    teachers = [f"{x}老师" for x in "李王张赵刘"[:classes]]
    draw = drawn(world.principal_a, world.bureau, n=n, classes=classes, teachers=teachers)
    done = _verify(_served(client, draw, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "核验通过" in done.stdout and draw.seed in done.stdout
    assert done.stdout.count("与承诺一致") == 2
    assert _classes_printed(done.stdout) == [c["pupils"] for c in draw.result["classes"]]
    for c in draw.result["classes"]:
        assert f"{c['class']}班  班主任 {c['teacher']}" in done.stdout


@pytest.mark.django_db
def test_the_script_agrees_with_bands(world, client, tmp_path):
    _school, principal = junior_school(world.school_a.district)
    draw = published(principal, world.bureau, grade=7, n=45, classes=3, bands="ABC",
                     teachers=("甲", "乙", "丙"), allow_bands=True)  # fmt: skip
    draw = draws.draw_run(actor=principal, draw_id=draw.pk, now=draw.scheduled_at)
    done = _verify(_served(client, draw, tmp_path))
    assert done.returncode == 0, done.stdout
    assert _classes_printed(done.stdout) == [c["pupils"] for c in draw.result["classes"]]


@pytest.mark.django_db
def test_before_the_draw_the_script_checks_the_list_only(world, client, tmp_path):
    draw = published(world.principal_a, world.bureau)
    done = _verify(_served(client, draw, tmp_path))
    assert done.returncode == 0
    assert "尚未抽签" in done.stdout and draw.seed_sha256 in done.stdout


def _swap_gender(data):
    data["input"]["pupils"][0]["gender"] = "M"


def _other_seed(data):
    data["seed"] = "00" * 32


def _moved_pupil(data):
    first, second = data["result"]["classes"][:2]
    second["pupils"].append(first["pupils"].pop())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change,says",
    [(_swap_gender, "名单与参数 SHA-256"), (_other_seed, "种子 SHA-256"),
     (_moved_pupil, "与平台公布的不一致")],
)  # fmt: skip
def test_the_script_notices_tampering(world, client, tmp_path, change, says):
    draw = drawn(world.principal_a, world.bureau)
    done = _verify(_served(client, draw, tmp_path, change))
    assert done.returncode == 1
    assert "核验未通过" in done.stdout
    line = next(x for x in done.stdout.splitlines() if says in x)
    assert "不一致" in line


def test_the_script_refuses_what_it_cannot_read(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json", encoding="utf-8")
    assert _verify(path).returncode == 2
    path.write_text('{"input": {"algorithm": "sunshine-draw/1"}, "seed": "00"}', encoding="utf-8")
    assert _verify(path).returncode == 2


@pytest.mark.django_db(transaction=True)
def test_the_script_reads_the_published_url(world, live_server):
    draw = drawn(world.principal_a, world.bureau)
    done = _verify(f"{live_server.url}/draw/{draw.pk}/draw.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert draw.seed in done.stdout


def test_the_script_gives_the_fixed_vector():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import verify_draw
    finally:
        sys.path.remove(str(SCRIPT.parent))
    from tests.governance.test_draw import _doc

    doc = _doc(n=8, classes=2, teachers=("甲", "乙"))
    assert verify_draw.draw_classes("00" * 32, doc) == [
        {"class": 1, "teacher": "乙", "pupils": [3, 4, 6, 7]},
        {"class": 2, "teacher": "甲", "pupils": [1, 2, 5, 8]},
    ]
