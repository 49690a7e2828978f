"""bench/run_all.py (`make bench`): the table it prints and when it fails."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import run_all  # noqa: E402
from _common import table_row  # noqa: E402


def _script(tmp_path, body: str) -> Path:
    path = tmp_path / "fake_bench.py"
    path.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'bench')!r})\n"
        "from _common import table_row\n" + body
    )
    return path


def test_rows_are_collected_and_tabled(tmp_path, capsys):
    script = _script(
        tmp_path,
        "print('details of the run')\n"
        "table_row('whitelist page', '412 req/s, p99 31 ms', baseline='/ping 2,600 req/s',"
        " ratio=0.158, target='>= 0.15', verdict='met')\n",
    )
    result = run_all._run("fake", str(script), [], tmp_path, env=None)
    assert result["status"] == 0
    assert result["rows"] == [{
        "benchmark": "whitelist page", "figure": "412 req/s, p99 31 ms",
        "baseline": "/ping 2,600 req/s", "ratio": 0.158, "target": ">= 0.15", "verdict": "met",
    }]  # fmt: skip
    out = capsys.readouterr().out
    assert "details of the run" in out  # the benchmark's own details are shown
    assert "BENCH-ROW" not in out  # rows go to the table, not the details
    assert "| whitelist page | 412 req/s, p99 31 ms | /ping 2,600 req/s | 0.158 |" in (
        run_all.table([result])
    )
    assert (tmp_path / "fake.log").read_text().count("BENCH-ROW") == 1


def test_a_failed_check_or_a_missing_row_is_a_failure(tmp_path):
    failed = run_all._run(
        "failing", str(_script(tmp_path, "table_row('x', '1 s', verdict='met')\nsys.exit(1)\n")),
        [], tmp_path, env=None,
    )  # fmt: skip
    assert failed["status"] == 1
    assert "| failing | FAILED (exit 1) |" in run_all.table([failed])
    silent = run_all._run("silent", str(_script(tmp_path, "print('no row')\n")), [], tmp_path,
                          env=None)  # fmt: skip
    assert silent["status"] == 0
    assert "| silent | FAILED (no row printed) |" in run_all.table([silent])


def test_a_verdict_is_met_missed_or_nothing():
    with pytest.raises(ValueError):
        table_row("x", "1 s", verdict="ok")
