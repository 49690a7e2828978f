"""docker-compose.yml and Dockerfile give the portal the settings its code reads.

No Docker is needed (nor the database): the files are read as text and YAML, and the
values are parsed with portal.env's own readers.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from portal.env import database_from_url, env_bool, redis_urls

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_FILE = ROOT / "portal" / "settings.py"

SERVICES = {"postgres", "redis", "migrate", "web", "worker", "beat"}
PROJECT_SERVICES = ["migrate", "web", "worker", "beat"]
REQUIRED_ENV = [
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY_FILE",
    "PORTAL_PRODUCTION",
    "DJANGO_ALLOWED_HOSTS",
]
# what an operator would put in .env; PORTAL_HOSTS etc. are left to their defaults
TEST_VARIABLES = {"POSTGRES_PASSWORD": "s3cretTestPassword"}

# --- Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
# ${VAR:?message}, ${VAR?message} (the forms the Compose specification defines). ---------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


class MissingVariable(Exception):
    pass


def substitute(text: str, variables: dict[str, str]) -> str:
    """text with every ${...} replaced as `docker compose` would, given variables."""

    def replace(match):
        if match["escaped"]:
            return "$"
        if match["bare"]:
            return variables.get(match["bare"], "")
        name, op, arg = match["name"], match["op"], match["arg"]
        value = variables.get(name)
        # with a colon, an empty value counts as unset
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op is None:
            return value or ""
        if op.endswith("-"):
            return arg if unset else value
        if unset:
            raise MissingVariable(f"{name}: {arg}")
        return value

    return _VARIABLE.sub(replace, text)


def substitute_all(node, variables: dict[str, str]):
    """The same through a parsed YAML tree (Compose interpolates values, not keys)."""
    if isinstance(node, dict):
        return {key: substitute_all(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute_all(item, variables) for item in node]
    if isinstance(node, str):
        return substitute(node, variables)
    return node


def test_the_substitution_helpers_follow_compose():
    variables = {"SET": "x", "EMPTY": ""}
    assert substitute("${SET:-d} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d}", variables) == "x d d "
    assert substitute("$SET ${SET} $$SET ${UNSET}", variables) == "x x $SET "
    assert substitute("${SET:?need it}", variables) == "x"
    with pytest.raises(MissingVariable, match="need it"):
        substitute("${UNSET:?need it}", variables)
    with pytest.raises(MissingVariable):
        substitute("${EMPTY:?need it}", variables)
    assert substitute("${EMPTY?need it}", variables) == ""


# --- the files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose(raw_compose) -> dict:
    return substitute_all(raw_compose, TEST_VARIABLES)


def _command(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_compose_file_has_exactly_the_portals_services(raw_compose):
    assert "version" not in raw_compose  # the Compose specification has no version key
    assert set(raw_compose["services"]) == SERVICES


def test_a_missing_postgres_password_stops_compose(raw_compose):
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        substitute_all(raw_compose, {})


def test_web_runs_gunicorn_and_worker_and_beat_run_celery(compose):
    services = compose["services"]
    web = _command(services["web"])
    assert web[0] == "gunicorn"
    assert "portal.wsgi:application" in web
    assert web[web.index("--bind") + 1] == "0.0.0.0:8000"
    assert any(port.endswith(":8000") for port in services["web"]["ports"])
    assert _command(services["worker"])[:4] == ["celery", "-A", "portal", "worker"]
    assert _command(services["beat"])[:4] == ["celery", "-A", "portal", "beat"]
    assert _command(services["migrate"]) == ["python", "manage.py", "migrate", "--noinput"]


def test_the_project_services_come_from_the_image_after_the_migration(compose):
    services = compose["services"]
    for name in PROJECT_SERVICES:
        service = services[name]
        assert service["build"] in (".", {"context": "."}), name
        assert "django_secret_key" in service["secrets"], name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in ["web", "worker", "beat"]:
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_the_stores_have_volumes_and_healthchecks(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ["postgres", "redis"]:
        assert services[name]["volumes"], name
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "--appendonly" in _command(services["redis"])


@pytest.mark.parametrize("name", PROJECT_SERVICES)
def test_every_project_service_gets_the_required_settings(compose, name):
    env = _environment(compose["services"][name])
    for variable in REQUIRED_ENV:
        assert env.get(variable), f"{name} lacks {variable}"


def _read_in_settings(variable: str, settings_text: str) -> bool:
    if f'"{variable}"' in settings_text:
        return True
    # env_secret("NAME") reads NAME and NAME_FILE
    if variable.endswith("_FILE"):
        name = variable.removesuffix("_FILE")
        return re.search(rf'env_secret\(\s*"{name}"', settings_text) is not None
    return False


def test_every_variable_compose_sets_is_read_by_the_settings(compose):
    settings_text = SETTINGS_FILE.read_text(encoding="utf-8")
    for name in PROJECT_SERVICES:
        for variable in _environment(compose["services"][name]):
            assert _read_in_settings(variable, settings_text), (
                f"{name} sets {variable}, which portal/settings.py never reads"
            )


def test_the_values_parse_with_the_portals_own_readers(compose):
    for name in PROJECT_SERVICES:
        env = _environment(compose["services"][name])
        database = database_from_url(env["DATABASE_URL"])
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["HOST"] == "postgres"
        assert database["PORT"] == "5432"
        assert database["NAME"] == "portal"
        assert database["PASSWORD"] == TEST_VARIABLES["POSTGRES_PASSWORD"]
        assert redis_urls(env["REDIS_URL"]) == ("redis://redis:6379/0", "redis://redis:6379/0")
        assert env_bool("PORTAL_PRODUCTION", False, environ=env) is True
        assert env_bool("PORTAL_BEHIND_PROXY", False, environ=env) is True
        assert env["DJANGO_SECRET_KEY_FILE"] == "/run/secrets/django_secret_key"


def test_the_postgres_service_matches_database_url(raw_compose, compose):
    postgres = _environment(compose["services"]["postgres"])
    for name in PROJECT_SERVICES:
        database = database_from_url(_environment(compose["services"][name])["DATABASE_URL"])
        assert database["USER"] == postgres["POSTGRES_USER"]
        assert database["NAME"] == postgres["POSTGRES_DB"]
        assert database["PASSWORD"] == postgres["POSTGRES_PASSWORD"]
    # and both take it from the one required variable, not from a copy in the file
    raw_postgres = _environment(raw_compose["services"]["postgres"])
    assert raw_postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in PROJECT_SERVICES:
        raw_url = _environment(raw_compose["services"][name])["DATABASE_URL"]
        assert "${POSTGRES_PASSWORD:?" in raw_url


def test_the_settings_module_loads_with_the_compose_environment(compose, tmp_path):
    """The whole of portal/settings.py, in production mode, with web's environment."""
    key_file = tmp_path / "django_secret_key"
    key_file.write_text("a-test-secret-key-from-a-file\n", encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PORTAL_", "CELERY_", "DATABASE_", "REDIS_"))
    }
    env.update(_environment(compose["services"]["web"]))
    env["DJANGO_SECRET_KEY_FILE"] = str(key_file)
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    env["PORTAL_STATIC_ROOT"] = str(tmp_path / "static")
    script = (
        "import json; from django.conf import settings as s; print(json.dumps(["
        "s.PRODUCTION, s.SECRET_KEY, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS,"
        "s.DATABASES['default']['HOST'], s.CELERY_BROKER_URL, s.SECURE_SSL_REDIRECT,"
        "list(getattr(s, 'SECURE_PROXY_SSL_HEADER', None) or [])]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    production, key, hosts, origins, db_host, broker, redirect, proxy_header = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert production is True
    assert key == "a-test-secret-key-from-a-file"
    assert hosts == ["localhost"]
    assert origins == ["https://localhost"]
    assert db_host == "postgres"
    assert broker == "redis://redis:6379/0"
    assert redirect is True
    assert proxy_header == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_wrong_boolean_would_be_refused():
    # the readers are strict, so the quoted "true" above is the only safe spelling
    with pytest.raises(ImproperlyConfigured):
        env_bool("PORTAL_PRODUCTION", False, environ={"PORTAL_PRODUCTION": "ture"})


# --- Dockerfile ---------------------------------------------------------------------------


def test_the_dockerfile_installs_the_pinned_requirements_and_runs_gunicorn():
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [argument for keyword, argument in instructions if keyword == "RUN"]
    install = next(run for run in runs if "pip install" in run)
    requirements = install.split("-r", 1)[1].split()[0]
    assert (ROOT / requirements).is_file()
    assert "--no-cache-dir" in install
    assert any("collectstatic --noinput" in run for run in runs)
    users = [argument for keyword, argument in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd = [argument for keyword, argument in instructions if keyword == "CMD"][-1]
    assert "gunicorn" in cmd
    assert "portal.wsgi" in cmd
    # whitenoise serves at run time from where collectstatic wrote at build time
    env = " ".join(argument for keyword, argument in instructions if keyword == "ENV")
    assert "PORTAL_STATIC_ROOT=/app/staticfiles" in env
    # the build's throwaway key must not become the image's key
    assert "DJANGO_SECRET_KEY" not in env


# --- the secret stays out of git and out of the image -----------------------------------


def _ignore_patterns(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line.strip("/") for line in lines if line and not line.startswith("#")}


def test_the_secret_file_is_kept_out_of_git(compose):
    assert compose["secrets"]["django_secret_key"]["file"] == "./secrets/django_secret_key"
    assert "secrets" in _ignore_patterns(ROOT / ".gitignore")


def test_the_secret_file_and_local_data_are_kept_out_of_the_image():
    # Dockerfile copies the whole project (COPY . .): secrets/ and var/ (the development
    # secret key and databases) must not go into the build context.
    patterns = _ignore_patterns(ROOT / ".dockerignore")
    assert {"secrets", "var"} <= patterns, ".dockerignore must exclude secrets/ and var/"
