"""What every benchmark does first: the services, a database of its own, the schema."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_bench_database():
    """Start the embedded services when DATABASE_URL/REDIS_URL are unset, point Django at
    <database>_bench (created once and kept between runs, so data is filled only once), set
    Django up and migrate. Returns the services, to stop at the end."""
    from portal.embedded import Services, ensure_database, with_database

    services = Services()
    os.environ.update(services.start())
    url = os.environ["DATABASE_URL"]
    bench_db = (urlsplit(url).path.lstrip("/") or "portal") + "_bench"
    ensure_database(with_database(url, "postgres"), bench_db)
    os.environ["DATABASE_URL"] = with_database(url, bench_db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return services


# --- serving the portal under gunicorn on this machine ------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The portal under gunicorn on a free port of 127.0.0.1 (DJANGO_DEBUG=false,
    PORTAL_PRODUCTION=false); ``start`` waits for /ping, ``stop`` ends its process group."""

    def __init__(self, workers: int, log_path: Path):
        self.workers = workers
        self.port = _free_port()
        self.log_path = log_path
        self.proc = None
        self.log = None

    def start(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "false",
            "PORTAL_PRODUCTION": "false",
        }
        self.log = open(self.log_path, "ab")  # closed in stop()
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}), see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /ping within 60 s, see {self.log_path}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def problems_since(self, offset: int):
        """Error lines the server logged after byte offset (Django logs 4xx/5xx, tracebacks)."""
        text = self.log_path.read_bytes()[offset:].decode("utf-8", "replace")
        pattern = re.compile(r"Traceback|Error|Forbidden|Bad Request|WORKER TIMEOUT|Lock", re.I)
        return [line for line in text.splitlines() if pattern.search(line)]

    def problems(self):
        """Error lines the server logged since it started."""
        return self.problems_since(0)

    def log_size(self) -> int:
        return self.log_path.stat().st_size


# --- one table for `make bench` (bench/run_all.py) ------------------------------------------

ROW_PREFIX = "BENCH-ROW "


def table_row(
    benchmark: str, figure: str, *, baseline: str = "", ratio: float | None = None,
    target: str = "", verdict: str = "",
):  # fmt: skip
    """One line of the summary table that `make bench` prints (bench/run_all.py reads the
    lines starting with ROW_PREFIX from each benchmark's output). ``verdict`` is "met",
    "missed" or "" (a figure without a target); a failed correctness check is not a verdict:
    the benchmark exits non-zero."""
    import json

    if verdict not in ("met", "missed", ""):
        raise ValueError(f"verdict {verdict!r}: met, missed or empty")
    row = {
        "benchmark": benchmark, "figure": figure, "baseline": baseline,
        "ratio": None if ratio is None else round(ratio, 3), "target": target,
        "verdict": verdict,
    }  # fmt: skip
    print(ROW_PREFIX + json.dumps(row, ensure_ascii=False), flush=True)
    return row
