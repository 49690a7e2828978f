"""Every benchmark, one after another, and one table of their figures (`make bench`).

    .venv/bin/python bench/run_all.py [--full] [--only NAME,...] [--log-dir var/bench]

Reduced scale by default (each benchmark's ``--reduced``: the whole run in under ten minutes
on two cores, the first fills included); ``--full`` runs each at the scale its own docstring
describes (what bench/README reports). The embedded PostgreSQL and Redis are started once
here when DATABASE_URL / REDIS_URL are unset, and every benchmark uses them.

Each benchmark prints its details as it runs (shown here as they come, and kept in
``<log-dir>/<name>.log``) and one ``BENCH-ROW {json}`` line per targeted figure
(bench/_common.table_row). At the end: one table (benchmark, figure, baseline measured in the
same run, ratio, target, verdict), the machine's load before and after each benchmark, and
the time each took. The exit status is 1 when a benchmark exited non-zero (a failed
correctness check, or a crash) or printed no row; a missed target is a verdict in the table,
not a failure.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _common import ROW_PREFIX  # noqa: E402

# name -> (script, arguments at the reduced scale, arguments at full scale); in this order
# (the dashboard last: it reuses the data the others filled)
BENCHMARKS = {
    "whitelist": ("whitelist_load.py", ["--reduced"], []),
    "enrolment": ("afterschool_burst.py", ["--reduced", "--fee", "5"], ["--fee", "5"]),
    "holiday": ("holiday_burst.py", ["--reduced"], []),
    "homework": ("homework_checks.py", ["--reduced"], []),
    "checks_scale": ("checks_scale.py", ["--reduced"], []),
    "cases": ("cases_search.py", ["--reduced"], []),
    "escrow": ("escrow_sweep.py", ["--reduced"], []),
    "dashboard": ("dashboard_load.py", ["--reduced"], []),
}
REDUCED_LIMIT_S = 600  # `make bench` at the reduced scale: under ten minutes in all


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def _run(name: str, script: str, args: list[str], log_dir: Path, env: dict) -> dict:
    """Run one benchmark, echoing its output, and collect its rows."""
    command = [sys.executable, str(ROOT / "bench" / script), *args]
    print(f"\n=== {name}: {' '.join(command[1:])}  (load {_load()})", flush=True)
    rows, started, load_before = [], time.monotonic(), _load()
    with open(log_dir / f"{name}.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, bufsize=1,
        )  # fmt: skip
        for line in proc.stdout:
            log.write(line)
            if line.startswith(ROW_PREFIX):
                try:
                    rows.append(json.loads(line[len(ROW_PREFIX) :]))
                except json.JSONDecodeError:
                    print(f"  (unreadable row: {line.strip()})")
                continue
            sys.stdout.write("  " + line)
        status = proc.wait()
    took = time.monotonic() - started
    print(f"=== {name}: exit {status}, {took:.0f} s, {len(rows)} row(s)", flush=True)
    return {
        "name": name, "status": status, "rows": rows, "seconds": took,
        "load": f"{load_before} → {_load()}",
    }  # fmt: skip


def _ratio(value) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def table(results: list[dict]) -> str:
    header = ["benchmark", "figure", "baseline in the same run", "ratio", "target", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        for row in result["rows"]:
            cells = [
                row["benchmark"], row["figure"], row.get("baseline", ""),
                _ratio(row.get("ratio")), row.get("target", ""), row.get("verdict", ""),
            ]  # fmt: skip
            lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
        if result["status"] != 0 or not result["rows"]:
            why = f"exit {result['status']}" if result["status"] else "no row printed"
            lines.append(f"| {result['name']} | FAILED ({why}) |  |  |  | failed |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="full scale (bench/README)")
    parser.add_argument("--only", default="", help="comma-separated names: " + ",".join(BENCHMARKS))
    parser.add_argument("--log-dir", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)

    from portal.embedded import Services

    services = Services()
    env = {**os.environ, **services.start()}
    started = time.monotonic()
    results = []
    try:
        for name in names:
            script, reduced, full = BENCHMARKS[name]
            results.append(_run(name, script, full if args.full else reduced, log_dir, env))
    finally:
        services.stop()
    total = time.monotonic() - started

    scale = "full scale" if args.full else "reduced scale"
    lines = [
        f"## make bench ({scale}), {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores",
        "", table(results), "",
        "| benchmark | exit | seconds | load (1/5 min) before → after |", "|---|---|---|---|",
        *(f"| {r['name']} | {r['status']} | {r['seconds']:.0f} | {r['load']} |" for r in results),
    ]  # fmt: skip
    verdict = ""
    if not args.full and names == list(BENCHMARKS):
        verdict = " (target < 600 s: " + ("met" if total < REDUCED_LIMIT_S else "missed") + ")"
    lines += ["", f"all benchmarks: {total:.0f} s{verdict}"]
    text = "\n".join(lines) + "\n"
    (log_dir / f"table-{'full' if args.full else 'reduced'}.md").write_text(text, encoding="utf-8")
    print("\n" + text + f"logs in {log_dir}")
    failed = [r["name"] for r in results if r["status"] != 0 or not r["rows"]]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
