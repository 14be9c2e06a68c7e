"""The deployment files agree with the code they deploy.

docker-compose.yml, the Dockerfile, docker/entrypoint.sh, .dockerignore, docs/deploy.md and
docs/dependencies.md are read as files: no database, no Docker engine. The environment variables
Rapport reads are taken from backend/settings.py's source, so a variable added there without being
documented (or one passed by compose that nothing reads) fails here.
"""

from __future__ import annotations

import ast
import http.server
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "backend" / "settings.py"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
DEPENDENCIES_DOC = ROOT / "docs" / "dependencies.md"

# Read by uvicorn through the Dockerfile's CMD, not by settings.py.
IMAGE_VARIABLES = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}
FALSE_VALUES = {"0", "false", "no", "off"}
TRUE_VALUES = {"1", "true", "yes", "on"}
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")  # $${...} is a literal $


# --- Reading the files ---------------------------------------------------------------------------


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def settings_variables() -> dict[str, str | None]:
    """Every environment variable settings.py reads, with its default when that is a literal string.

    Recognises os.environ.get("NAME", ...), os.environ["NAME"], os.getenv("NAME", ...) and the
    settings module's own env_bool("NAME", ...) / env_list("NAME", ...) helpers.
    """
    found: dict[str, str | None] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        name = default = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            environ_get = isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value)
            getenv = (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
            )
            helper = isinstance(func, ast.Name) and func.id in {"env_bool", "env_list"}
            if environ_get or getenv or helper:
                name = _literal(node.args[0])
                if (environ_get or getenv) and len(node.args) > 1:
                    default = _literal(node.args[1])
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            name = _literal(node.slice)
        if name:
            found.setdefault(name, default)
    return found


@pytest.fixture(scope="module")
def read_by_settings() -> dict[str, str | None]:
    return settings_variables()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "NAME=value" list form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


@pytest.fixture(scope="module")
def web_env(services) -> dict[str, str]:
    return environment(services["web"])


def command_args(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def option_values(args: list[str], option: str) -> list[str]:
    """Values of `--option=value` arguments (coturn's form)."""
    prefix = f"--{option}="
    return [arg[len(prefix) :] for arg in args if arg.startswith(prefix)]


def published_ports(service: dict) -> list[tuple[str | None, str, str, str]]:
    """(host ip, host ports, container ports, protocol) of each short-syntax port mapping."""
    mappings = []
    for entry in service.get("ports") or []:
        spec, _, protocol = str(entry).partition("/")
        parts = spec.split(":")
        host_ip = parts[0] if len(parts) == 3 else None
        host, container = (parts[-2], parts[-1]) if len(parts) >= 2 else (parts[0], parts[0])
        mappings.append((host_ip, host, container, protocol or "tcp"))
    return mappings


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form instruction; Docker would silently fall back to shell form
    on invalid JSON, so invalid JSON is a failure here."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), arguments
    return value


def instruction(name: str) -> str:
    found = [arguments for instr, arguments in dockerfile_instructions() if instr == name]
    assert found, f"The Dockerfile has no {name} instruction"
    return found[-1]  # the last one is the one that counts


def healthcheck_command() -> list[str]:
    arguments = instruction("HEALTHCHECK")
    return exec_form(arguments[arguments.index("CMD") + len("CMD") :].strip())


def without_interpolations(value: str) -> str:
    return re.sub(r"\$\{[^}]*\}", "interpolated", value)


def requires(value: str, name: str) -> bool:
    """Whether a compose value is exactly `${NAME:?message}` or `${NAME?message}` (refuses to start unset)."""
    return re.fullmatch(rf"\$\{{{name}:?\?[^}}]+\}}", value) is not None


# --- settings.py -----------------------------------------------------------------------------


def test_settings_parser_finds_every_kind_of_read(read_by_settings):
    # One of each kind, so a parser that silently finds nothing cannot make the tests below vacuous.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TURN_SECRET"} <= read_by_settings.keys()  # os.environ.get
    assert {"DEBUG", "HTTPS", "TRUST_PROXY_HTTPS_HEADER"} <= read_by_settings.keys()  # env_bool
    assert {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "STUN_URLS", "TURN_URLS"} <= read_by_settings.keys()  # env_list
    assert read_by_settings["TIME_ZONE"] == "Europe/London"


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_the_four_services(services):
    assert {"postgres", "redis", "coturn", "web"} <= services.keys()


def test_web_is_built_from_the_dockerfile(services):
    build = services["web"]["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = ROOT / build.get("context", ".")
    assert context.resolve() == ROOT
    assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE


def test_web_waits_for_healthy_postgres_and_redis(services):
    depends_on = services["web"]["depends_on"]
    assert isinstance(depends_on, dict), "depends_on must use conditions, not a plain list"
    for name in ("postgres", "redis"):
        assert depends_on[name]["condition"] == "service_healthy"
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck for web to wait on"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])


def test_postgres_keeps_its_data_in_a_named_volume_with_a_password_from_the_environment(compose, services):
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    volumes = [str(volume).split(":") for volume in postgres["volumes"]]
    named = compose.get("volumes") or {}
    assert any(source in named and target == "/var/lib/postgresql/data" for source, target, *_ in volumes)
    assert requires(environment(postgres)["POSTGRES_PASSWORD"], "POSTGRES_PASSWORD")


def test_web_uses_the_compose_postgres_and_redis(services, web_env):
    postgres_env = environment(services["postgres"])
    database_url = web_env["DATABASE_URL"]
    url = urlsplit(without_interpolations(database_url))
    assert url.scheme in {"postgres", "postgresql"}
    assert url.hostname == "postgres"
    assert url.port in (None, 5432)
    assert url.path == "/" + postgres_env["POSTGRES_DB"]
    assert url.username == postgres_env["POSTGRES_USER"]
    assert "${POSTGRES_PASSWORD" in database_url, "the database password must come from the same variable as postgres's"

    redis_url = urlsplit(web_env["REDIS_URL"])
    assert redis_url.scheme == "redis"
    assert redis_url.hostname == "redis"


def test_web_runs_with_production_settings(web_env):
    assert web_env["DEBUG"].lower() in FALSE_VALUES
    assert requires(web_env["SECRET_KEY"], "SECRET_KEY"), "SECRET_KEY must be required, never defaulted"
    assert requires(web_env["ALLOWED_HOSTS"], "ALLOWED_HOSTS")
    assert web_env["HTTPS"].lower() in TRUE_VALUES
    assert web_env["TRUST_PROXY_HTTPS_HEADER"].lower() in TRUE_VALUES


def test_every_variable_given_to_web_is_read_by_settings_or_the_image(read_by_settings, web_env):
    unknown = set(web_env) - set(read_by_settings) - IMAGE_VARIABLES
    assert not unknown, f"web is given variables nothing reads: {sorted(unknown)}"
    cmd = " ".join(exec_form(instruction("CMD")))
    for name in IMAGE_VARIABLES & set(web_env):
        assert f"${{{name}" in cmd, f"{name} is passed to web but the Dockerfile's CMD does not use it"


def test_compose_defaults_are_the_settings_defaults(read_by_settings, web_env):
    checked = 0
    for name, value in web_env.items():
        match = re.fullmatch(rf"\$\{{{name}:-(.*)\}}", value)
        if match and read_by_settings.get(name) is not None:
            assert match.group(1) == read_by_settings[name], f"{name}: compose defaults to {match.group(1)!r}"
            checked += 1
    assert checked, "no defaulted settings variable was compared"


def test_web_is_published_on_loopback_only(services, web_env):
    # FORWARDED_ALLOW_IPS may trust every peer only because no one but the host's proxy can connect.
    ports = published_ports(services["web"])
    assert ports, "web publishes no port for the reverse proxy"
    assert all(host_ip == "127.0.0.1" for host_ip, *_ in ports)
    assert all(container == "8000" for _, _, container, _ in ports)
    for name in ("postgres", "redis"):
        assert not services[name].get("ports"), f"{name} must not be published"


def test_coturn_authenticates_with_the_turn_secret(services, web_env):
    coturn = services["coturn"]
    assert coturn["image"].startswith("coturn/coturn")
    assert coturn.get("network_mode") != "host"
    args = command_args(coturn)
    for flag in ("--use-auth-secret", "--no-cli", "--fingerprint"):
        assert flag in args
    secrets = option_values(args, "static-auth-secret")
    assert len(secrets) == 1 and requires(secrets[0], "TURN_SECRET")
    assert requires(web_env["TURN_SECRET"], "TURN_SECRET"), "web must mint credentials from the same secret"
    assert option_values(args, "realm") and option_values(args, "external-ip")


def _denied(ranges: list[str], address: str) -> bool:
    ip = ipaddress.ip_address(address)
    for spec in ranges:
        low, _, high = spec.partition("-")
        low_ip, high_ip = ipaddress.ip_address(low), ipaddress.ip_address(high or low)
        if low_ip.version == ip.version and low_ip <= ip <= high_ip:
            return True
    return False


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "::1", "fd00::1", "fe80::1",
    ],
)
def test_coturn_never_relays_into_private_ranges(services, address):
    assert _denied(option_values(command_args(services["coturn"]), "denied-peer-ip"), address)


def test_coturn_still_relays_to_public_addresses(services):
    ranges = option_values(command_args(services["coturn"]), "denied-peer-ip")
    assert not _denied(ranges, "8.8.8.8") and not _denied(ranges, "2a00:1450::1")


def test_coturn_publishes_its_listening_port_and_its_whole_relay_range(services):
    coturn = services["coturn"]
    ports = published_ports(coturn)
    mappings = {(host, container, protocol) for _, host, container, protocol in ports}
    assert {("3478", "3478", "udp"), ("3478", "3478", "tcp")} <= mappings
    args = command_args(coturn)
    relay = f"{option_values(args, 'min-port')[0]}-{option_values(args, 'max-port')[0]}"
    assert (relay, relay, "udp") in mappings


# --- Dockerfile and entrypoint ---------------------------------------------------------------


def test_dockerfile_serves_the_asgi_application():
    assert instruction("FROM").startswith("python:3.11-slim-bookworm")
    cmd = " ".join(exec_form(instruction("CMD")))
    assert "uvicorn backend.asgi:application" in cmd
    for part in ("--host 0.0.0.0", "--port 8000", "--proxy-headers", '--workers "${WEB_CONCURRENCY:-4}"',
                 '--forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"'):
        assert part in cmd
    assert instruction("EXPOSE").split() == ["8000"]


def test_dockerfile_runs_as_an_unprivileged_user_with_no_baked_secrets():
    assert instruction("USER").split(":")[0] not in {"root", "0"}
    instructions = dockerfile_instructions()
    assert not any(instr in {"ENV", "ARG"} and "SECRET_KEY" in arguments for instr, arguments in instructions)
    collectstatic = [arguments for instr, arguments in instructions if instr == "RUN" and "collectstatic" in arguments]
    assert len(collectstatic) == 1
    assert "SECRET_KEY=" in collectstatic[0] and "ALLOWED_HOSTS=" in collectstatic[0]
    installs = [arguments for instr, arguments in instructions if instr == "RUN" and "pip install" in arguments]
    assert any("-r requirements.txt" in arguments for arguments in installs)


def test_entrypoint_migrates_then_runs_the_command():
    assert exec_form(instruction("ENTRYPOINT"))[-1].endswith("docker/entrypoint.sh")
    assert os.access(ENTRYPOINT, os.X_OK), "docker/entrypoint.sh must be executable"
    script = ENTRYPOINT.read_text()
    assert script.startswith("#!/bin/sh")
    assert re.search(r"^set -e", script, re.MULTILINE)
    migrate = script.index("python manage.py migrate --noinput")
    assert migrate < script.index('exec "$@"')


class _Recorder(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: list[dict[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).seen.append({"path": self.path, "host": self.headers["Host"], "proto": self.headers["X-Forwarded-Proto"]})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status, healthy", [(200, True), (400, False)])
def test_healthcheck_asks_for_the_login_page_as_the_proxy_would(status, healthy):
    argv = healthcheck_command()
    assert argv[:2] == ["python", "-c"] and "urllib" in argv[2]
    _Recorder.status, _Recorder.seen = status, []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code = argv[2].replace("127.0.0.1:8000", f"127.0.0.1:{server.server_port}")
        assert code != argv[2], "the healthcheck does not ask the app on 127.0.0.1:8000"
        env = {"PATH": os.environ.get("PATH", ""), "ALLOWED_HOSTS": ".example.nhs.uk,rapport.example.nhs.uk"}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) is healthy, result.stderr.decode()
    assert _Recorder.seen == [{"path": "/login/", "host": "example.nhs.uk", "proto": "https"}]


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    entries = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "var", ".git", ".env", "tests/browser/node_modules"} <= entries
    assert entries & {"node_modules", "**/node_modules"}
    assert entries & {"__pycache__", "**/__pycache__"}


# --- Documentation ---------------------------------------------------------------------------


def _table_row(text: str, name: str) -> bool:
    return re.search(rf"^\|\s*`{re.escape(name)}`\s*\|", text, re.MULTILINE) is not None


def test_deploy_doc_documents_every_variable_settings_reads(read_by_settings):
    doc = DEPLOY_DOC.read_text()
    missing = [name for name in read_by_settings if not _table_row(doc, name)]
    assert not missing, f"docs/deploy.md has no table row for {missing}"


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def test_deploy_doc_documents_every_variable_compose_reads(compose):
    doc = DEPLOY_DOC.read_text()
    used = {name for value in _strings(compose) for name in INTERPOLATION.findall(value)} | IMAGE_VARIABLES
    assert {"POSTGRES_PASSWORD", "TURN_SECRET", "SECRET_KEY"} <= used
    missing = sorted(name for name in used if not _table_row(doc, name))
    assert not missing, f"docs/deploy.md has no table row for {missing}"


def test_deploy_doc_covers_the_operator_tasks():
    doc = DEPLOY_DOC.read_text()
    for needle in ("docker compose exec web python manage.py organisation_create", "verify_audit", "check --deploy",
                   "pg_dump", "X-Forwarded-Proto", "make run", "REDIS_URL"):
        assert needle in doc


def _pins() -> list[tuple[str, str]]:
    pins = []
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / requirements).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                name, _, version = line.partition("==")
                pins.append((name.strip(), version.strip()))
    package = json.loads((ROOT / "tests" / "browser" / "package.json").read_text())
    pins += list(package.get("dependencies", {}).items()) + list(package.get("devDependencies", {}).items())
    return pins


def test_dependencies_doc_has_a_row_for_every_pin_at_its_version():
    doc = DEPENDENCIES_DOC.read_text()
    pins = _pins()
    assert ("Django", "5.2.19") in pins and any(name == "axe-core" for name, _ in pins)
    missing = [
        f"{name}=={version}"
        for name, version in pins
        if not re.search(rf"^\|\s*`{re.escape(name)}`\s*\|\s*{re.escape(version)}\s*\|", doc, re.MULTILINE)
    ]
    assert not missing, f"docs/dependencies.md has no row (or a stale version) for {missing}"
