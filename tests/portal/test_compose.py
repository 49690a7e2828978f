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

from portal.cache_redis import redis_database
from portal.env import database_from_url, env_bool, redis_urls

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SETTINGS_FILE = ROOT / "portal" / "settings.py"

SERVICES = {"proxy", "postgres", "redis", "redis-cache", "migrate", "db-roles", "web", "worker",
            "beat"}  # fmt: skip
PROJECT_SERVICES = ["migrate", "db-roles", "web", "worker", "beat"]
# the schema's owner migrates and grants; the portal itself runs as the runtime role
OWNER_SERVICES = ["migrate", "db-roles"]
RUNTIME_SERVICES = ["web", "worker", "beat"]
RUNTIME_ROLE = "portal_app"
REQUIRED_ENV = [
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY_FILE",
    "PORTAL_PRODUCTION",
    "DJANGO_ALLOWED_HOSTS",
]
# what an operator would put in .env; PORTAL_HOSTS etc. are left to their defaults
TEST_VARIABLES = {
    "POSTGRES_PASSWORD": "s3cretTestPassword",
    "PORTAL_DB_APP_PASSWORD": "appPassw0rd",
}

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
        substitute_all(raw_compose, {"PORTAL_DB_APP_PASSWORD": "x"})
    with pytest.raises(MissingVariable, match="PORTAL_DB_APP_PASSWORD"):
        substitute_all(raw_compose, {"POSTGRES_PASSWORD": "x"})


def test_web_runs_gunicorn_and_worker_and_beat_run_celery(compose):
    services = compose["services"]
    web = _command(services["web"])
    assert web[0] == "gunicorn"
    assert "portal.wsgi:application" in web
    assert web[web.index("--bind") + 1] == "0.0.0.0:8000"  # inside the compose network
    assert _command(services["worker"])[:4] == ["celery", "-A", "portal", "worker"]
    assert _command(services["beat"])[:4] == ["celery", "-A", "portal", "beat"]
    assert _command(services["migrate"]) == ["python", "manage.py", "migrate", "--noinput"]
    roles = _command(services["db-roles"])
    assert roles[:3] == ["python", "manage.py", "db_roles"]
    assert roles[roles.index("--runtime-role") + 1] == RUNTIME_ROLE


# --- only the proxy is published; it forwards what the portal trusts ----------------------


def test_only_the_proxy_publishes_a_port(compose):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert "ports" not in services["web"]  # gunicorn: the compose network only
    assert [str(port) for port in services["web"]["expose"]] == ["8000"]
    ports = services["proxy"]["ports"]
    assert any(str(port).endswith(":443:443") for port in ports)
    assert services["proxy"]["image"].startswith("nginx:")


def _nginx_directives() -> list[list[str]]:
    text = "\n".join(
        line.split("#", 1)[0] for line in NGINX_CONF.read_text(encoding="utf-8").splitlines()
    )
    return [statement.split() for statement in re.split(r"[;{}]", text) if statement.strip()]


def test_the_proxy_config_is_mounted_and_forwards_the_client_and_the_scheme(compose):
    volumes = compose["services"]["proxy"]["volumes"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in volumes}
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx.conf"
    assert (ROOT / mounts["/etc/nginx/conf.d/default.conf"]).is_file()
    directives = _nginx_directives()
    headers = {d[1].lower(): " ".join(d[2:]) for d in directives if d[0] == "proxy_set_header"}
    # appended, so the right-most entry is the address nginx saw: the one PORTAL_PROXY_COUNT=1
    # reads; and the scheme always set here, never passed through from the client
    assert headers["x-forwarded-for"] == "$proxy_add_x_forwarded_for"
    assert headers["x-forwarded-proto"] == "$scheme"
    assert headers["host"] == "$http_host"
    assert ["proxy_pass", "http://portal_web"] in directives
    assert ["server", "web:8000"] in directives
    assert ["listen", "443", "ssl"] in directives


def test_the_proxy_count_matches_the_one_proxy(compose):
    images = [str(service.get("image", "")) for service in compose["services"].values()]
    proxies = [image for image in images if image.startswith(("nginx", "caddy", "traefik"))]
    for name in RUNTIME_SERVICES:
        env = _environment(compose["services"][name])
        assert int(env["PORTAL_PROXY_COUNT"]) == len(proxies) == 1, name


def test_the_project_services_come_from_the_image_after_the_migration(compose):
    services = compose["services"]
    for name in PROJECT_SERVICES:
        service = services[name]
        assert service["build"] in (".", {"context": "."}), name
        assert "django_secret_key" in service["secrets"], name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert services["db-roles"]["restart"] == "no"
    roles_after = services["db-roles"]["depends_on"]["migrate"]["condition"]
    assert roles_after == "service_completed_successfully"
    for name in RUNTIME_SERVICES:
        for first in OWNER_SERVICES:
            condition = services[name]["depends_on"][first]["condition"]
            assert condition == "service_completed_successfully", (name, first)
        for store in ["redis", "redis-cache"]:
            assert services[name]["depends_on"][store]["condition"] == "service_healthy"


def test_the_stores_have_volumes_and_healthchecks(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ["postgres", "redis"]:
        assert services[name]["volumes"], name
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    broker = _command(services["redis"])
    assert "--appendonly" in broker
    assert broker[broker.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_cache_has_its_own_bounded_redis(compose):
    cache = compose["services"]["redis-cache"]
    assert cache["image"].startswith("redis:7")
    assert cache["healthcheck"]["test"]
    command = _command(cache)
    assert command[command.index("--maxmemory") + 1] == "256mb"
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-lru"
    assert command[command.index("--save") + 1] == ""
    for name in PROJECT_SERVICES:
        env = _environment(compose["services"][name])
        cache_url, broker_url = env["PORTAL_CACHE_REDIS_URL"], env["REDIS_URL"]
        assert redis_database(cache_url) == ("redis-cache:6379", 0)
        assert redis_database(cache_url) != redis_database(broker_url)


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
        command = _command(compose["services"][name])
        # a variable the service's own command reads (db_roles --password-env NAME)
        own = {command[i + 1] for i, part in enumerate(command[:-1]) if part == "--password-env"}
        for variable in _environment(compose["services"][name]):
            if variable in own:
                continue
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
        assert redis_urls(env["REDIS_URL"]) == ("redis://redis:6379/0", "redis://redis:6379/0")
        assert env_bool("PORTAL_PRODUCTION", False, environ=env) is True
        assert env_bool("PORTAL_BEHIND_PROXY", False, environ=env) is True
        assert env["DJANGO_SECRET_KEY_FILE"] == "/run/secrets/django_secret_key"


def test_the_owner_migrates_and_the_runtime_role_runs_the_portal(raw_compose, compose):
    postgres = _environment(compose["services"]["postgres"])
    for name in OWNER_SERVICES:
        database = database_from_url(_environment(compose["services"][name])["DATABASE_URL"])
        assert database["USER"] == postgres["POSTGRES_USER"], name
        assert database["NAME"] == postgres["POSTGRES_DB"]
        assert database["PASSWORD"] == postgres["POSTGRES_PASSWORD"]
    roles = _environment(compose["services"]["db-roles"])
    for name in RUNTIME_SERVICES:
        database = database_from_url(_environment(compose["services"][name])["DATABASE_URL"])
        assert database["USER"] == RUNTIME_ROLE != postgres["POSTGRES_USER"], name
        assert database["NAME"] == postgres["POSTGRES_DB"]
        # the password db-roles gives the role is the one the portal connects with
        assert database["PASSWORD"] == roles["PORTAL_DB_APP_PASSWORD"]
        assert database["PASSWORD"] != postgres["POSTGRES_PASSWORD"]
    # each from its one required variable, not from a copy in the file
    raw_postgres = _environment(raw_compose["services"]["postgres"])
    assert raw_postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in PROJECT_SERVICES:
        raw_url = _environment(raw_compose["services"][name])["DATABASE_URL"]
        variable = "POSTGRES_PASSWORD" if name in OWNER_SERVICES else "PORTAL_DB_APP_PASSWORD"
        assert f"${{{variable}:?" in raw_url, name


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
        "list(getattr(s, 'SECURE_PROXY_SSL_HEADER', None) or []), s.PORTAL_CACHE_REDIS_URL]))"
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
    production, key, hosts, origins, db_host, broker, redirect, proxy_header, cache = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert production is True
    assert key == "a-test-secret-key-from-a-file"
    assert hosts == ["localhost"]
    assert origins == ["https://localhost"]
    assert db_host == "postgres"
    assert broker == "redis://redis:6379/0"
    assert cache == "redis://redis-cache:6379/0"
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
