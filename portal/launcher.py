"""`make run`: the services, the schema, the demo district, then web + worker + beat.

    python -m portal.launcher            # what `make run` calls
    python -m portal.launcher manage changepassword bureau_admin    # `make manage ARGS=...`

`manage` runs one management command with the embedded servers that DATABASE_URL /
REDIS_URL do not replace: it starts those not already running (a running `make run`'s are
joined, not restarted), runs the command in the foreground (it may prompt, as
changepassword does), then stops only what it started, and exits with the command's code.

Ctrl-C (or SIGTERM) stops every child process and the embedded servers; the data stays in
var/ for the next start.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from portal.embedded import BASE_DIR, Services
from portal.env import env_bool

PYTHON = sys.executable
BIN = Path(PYTHON).parent


def _manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _wait_http(url: str, timeout: float, procs) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with code {proc.returncode} during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def manage(args: list[str]) -> int:
    """`make manage ARGS="..."`: one management command on the servers `make run` uses."""
    services = Services()
    proc = None

    # Ctrl-C at a prompt reaches the command itself (our process group): we only wait for
    # it, then stop the servers. A handler rather than SIG_IGN, which the command would
    # inherit. SIGTERM, sent to us alone, is passed on.
    def on_signal(signum, frame):
        if signum == signal.SIGTERM and proc is not None and proc.poll() is None:
            proc.terminate()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **services.start()}
        proc = subprocess.Popen([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env)
        return proc.wait()
    finally:
        services.stop()


def main() -> int:
    host = os.environ.get("PORTAL_HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    services = Services()
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    print("启动数据库与 Redis……" if not os.environ.get("DATABASE_URL") else "使用 DATABASE_URL")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **services.start()}
    env.setdefault("PYTHONUNBUFFERED", "1")
    _manage(env, "migrate", "--noinput")
    if env_bool("PORTAL_PRODUCTION", False):
        print("生产环境：不加载演示数据（load_demo 在生产环境中拒绝运行）。")
    else:
        _manage(env, "load_demo")

    procs = []

    def spawn(name, argv):
        # each child in its own process group, so a Ctrl-C reaches us first and we stop
        # them in order (web before the database it talks to)
        proc = subprocess.Popen(argv, cwd=BASE_DIR, env=env, start_new_session=True)
        procs.append((name, proc))

    spawn(
        "web",
        [
            str(BIN / "gunicorn"),
            "portal.wsgi:application",
            "--bind", f"{host}:{port}",
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--access-logfile", "-",
        ],
    )  # fmt: skip
    spawn("worker", [str(BIN / "celery"), "-A", "portal", "worker", "-l", "info", "-c", "2"])
    spawn("beat", [str(BIN / "celery"), "-A", "portal", "beat", "-l", "info"])

    code = 0
    try:
        if _wait_http(f"http://{host}:{port}/healthz", 120, procs):
            shown = "localhost" if host in {"127.0.0.1", "0.0.0.0"} else host
            print(
                "\n双减工作平台已启动：\n"
                f"  首页       http://{shown}:{port}/\n"
                f"  登录       http://{shown}:{port}/login/\n"
                f"  管理后台   http://{shown}:{port}/admin/\n"
                f"  API 文档   http://{shown}:{port}/api/schema/\n"
                "演示账号见上方（首次启动时生成的密码只显示一次）。按 Ctrl-C 停止。\n",
                flush=True,
            )
        else:
            print("web did not answer on /healthz within 120 s", file=sys.stderr)
            code = 1
            stopping = True
        while not stopping:
            for name, proc in procs:
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping", file=sys.stderr)
                    code = 1
                    stopping = True
            time.sleep(0.5)
    finally:
        print("正在停止……", flush=True)
        for _name, proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        services.stop()
        print("已停止。数据保存在 var/，下次启动继续使用。", flush=True)
    return code


if __name__ == "__main__":
    if sys.argv[1:2] == ["manage"]:
        sys.exit(manage(sys.argv[2:]))
    sys.exit(main())
