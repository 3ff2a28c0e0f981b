"""The container files, checked by reading them (no Docker engine here).

docker-compose.yml, Dockerfile, .dockerignore and .env.example against each other and against the
code: the settings of pipeline/config.py, the Makefile's install recipe, the files of the repo.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import yaml

from pipeline.config import ENV_PREFIX, env_names

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENV_EXAMPLE = REPO / ".env.example"
MAKEFILE = REPO / "Makefile"

DATABASES = {"postgres", "warehouse"}
CELERY_SERVICES = {"redis", "airflow-worker", "flower"}
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}
LONG_RUNNING_AIRFLOW = AIRFLOW_SERVICES - {"airflow-init"}
COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
    "flower": "celery flower",
}
HEALTHCHECK_MUST_CONTAIN = {
    "postgres": "pg_isready",
    "warehouse": "pg_isready",
    "redis": "redis-cli",
    "airflow-apiserver": "http://localhost:8080/api/v2/version",
    "airflow-scheduler": "http://localhost:8974/health",
    "airflow-dag-processor": "DagProcessorJob",
    "airflow-triggerer": "TriggererJob",
    "airflow-worker": "inspect ping",
    "flower": "http://localhost:5555",
}
# Files and folders the image must contain (the README is pyproject's `readme`, checked separately).
REQUIRED_COPIES = {
    "requirements.txt",
    "constraints.txt",
    "pyproject.toml",
    "pipeline",
    "dags",
    "sql",
    "feeds.yaml",
}

# Compose interpolation: $$ (a literal $), ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error},
# ${NAME?error}, ${NAME:+alt}, $NAME.
_VAR = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


# -- helpers ---------------------------------------------------------------------------------------


def setting_env_names() -> set[str]:
    return set(env_names())


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, as `docker compose` does (PyYAML keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_compose() -> dict:
    return yaml.load(COMPOSE_FILE.read_text(), Loader=_UniqueKeyLoader)  # a SafeLoader subclass


def services() -> dict[str, dict]:
    return load_compose()["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- KEY=value" form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: ("" if value is None else str(value)) for key, value in env.items()}


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def healthcheck_text(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test", "")
    return " ".join(test) if isinstance(test, list) else str(test)


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # the short form has no condition
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def referenced_vars(text: str) -> set[str]:
    return {m.group(2) or m.group(5) for m in _VAR.finditer(text) if not m.group(1)}


def required_vars(text: str) -> set[str]:
    return {m.group(2) for m in _VAR.finditer(text) if m.group(3) in (":?", "?")}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Resolve compose variables like `docker compose config` does (no nesting)."""

    def resolve(m: re.Match) -> str:
        if m.group(1):
            return "$"
        name, op, arg = m.group(2) or m.group(5), m.group(3), m.group(4) or ""
        value = env.get(name)
        unset_or_empty = value is None or value == ""
        if op == ":-":
            return arg if unset_or_empty else value
        if op == "-":
            return arg if value is None else value
        if op in (":?", "?"):
            if unset_or_empty if op == ":?" else value is None:
                raise KeyError(f"{name} is required: {arg}")
            return value
        if op == ":+":
            return "" if unset_or_empty else arg
        if op == "+":
            return "" if value is None else arg
        return value or ""

    return _VAR.sub(resolve, text)


def env_example() -> tuple[dict[str, str], set[str], list[str]]:
    """(active KEY=value lines, keys of commented-out `# KEY=value` lines, all lines)."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    active: dict[str, str] = {}
    commented: set[str] = set()
    for line in lines:
        if m := re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line.strip()):
            assert m.group(1) not in active, f".env.example sets {m.group(1)} twice"
            active[m.group(1)] = m.group(2)
        elif m := re.fullmatch(r"#\s*([A-Z_][A-Z0-9_]*)=.*", line.strip()):
            commented.add(m.group(1))
    return active, commented, lines


def sample_env() -> dict[str, str]:
    """.env.example with the required secrets filled in, as a user's .env would be."""
    active, _, _ = env_example()
    text = COMPOSE_FILE.read_text()
    return {**active, **{name: f"example-{name.lower()}" for name in required_vars(text)}}


def host_of(url: str) -> sa.engine.URL:
    return sa.engine.make_url(url)


# -- Dockerfile, Makefile and .dockerignore parsing -------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends with a line continuation"
    return instructions


def _copy_args(args: str) -> tuple[list[str], str]:
    if args.startswith("["):
        parts = json.loads(args)
    else:
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
    return parts[:-1], parts[-1]


def dockerfile_layout() -> dict:
    """Walk the Dockerfile: the image path of every COPY source, the ENVs, the pip commands."""
    workdir = "/"
    copies: dict[str, str] = {}  # path in the image -> repo path
    copied_sources: list[str] = []
    env: dict[str, str] = {}
    pip_runs: list[tuple[str, dict, set[str]]] = []  # (workdir, pip args, image paths copied so far)
    base = None
    for keyword, args in dockerfile_instructions():
        if keyword == "FROM":
            base = args.split()[0]
        elif keyword == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, args))
        elif keyword in ("COPY", "ADD"):
            assert "--from" not in args, "multi-stage COPY --from is not expected here"
            sources, dest = _copy_args(args)
            dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
            for source in sources:
                copied_sources.append(source)
                repo_path = posixpath.normpath(source)
                is_dir = (REPO / repo_path).is_dir()
                if is_dir:
                    image_path = dest_abs  # Docker copies a directory's contents into dest
                elif dest.endswith("/") or len(sources) > 1 or dest in (".", "./"):
                    image_path = posixpath.join(dest_abs, posixpath.basename(repo_path))
                else:
                    image_path = dest_abs
                copies[image_path] = repo_path
        elif keyword == "ENV":
            if "=" in args.split()[0]:
                for item in shlex.split(args):
                    key, _, value = item.partition("=")
                    env[key] = value
            else:
                key, _, value = args.partition(" ")
                env[key] = value.strip()
        elif keyword == "RUN":
            for command in pip_install_commands(args):
                pip_runs.append((workdir, command, set(copies)))
    return {"base": base, "copies": copies, "sources": copied_sources, "env": env, "pip": pip_runs}


def pip_install_commands(shell: str) -> list[dict]:
    """Parse every `pip install` of a shell line into requirement/constraint files and targets."""
    commands = []
    for part in re.split(r"&&|\|\||;", shell):
        tokens = shlex.split(part)
        for i in range(len(tokens) - 1):
            if tokens[i].endswith("pip") and tokens[i + 1] == "install":
                commands.append(_pip_args(tokens[i + 2 :]))
                break
    return commands


def _pip_args(tokens: list[str]) -> dict:
    parsed: dict = {"requirements": [], "constraints": [], "targets": [], "no_deps": False, "editable": False}
    it = iter(tokens)
    for token in it:
        if token in ("-r", "--requirement"):
            parsed["requirements"].append(next(it))
        elif token in ("-c", "--constraint"):
            parsed["constraints"].append(next(it))
        elif token in ("-e", "--editable"):
            parsed["editable"] = True
            parsed["targets"].append(next(it))
        elif token == "--no-deps":
            parsed["no_deps"] = True
        elif token.startswith(("--requirement=", "--constraint=", "--editable=")):
            option, _, value = token.partition("=")
            if option == "--editable":
                parsed["editable"] = True
                parsed["targets"].append(value)
            else:
                parsed["requirements" if option == "--requirement" else "constraints"].append(value)
        elif token.startswith("-"):
            continue  # --quiet, --no-cache-dir, --upgrade, ...
        else:
            parsed["targets"].append(token)
    return parsed


def makefile_install_pip_commands() -> list[dict]:
    """The pip commands of the Makefile's `install` target and of the targets it depends on."""
    text = MAKEFILE.read_text()
    variables: dict[str, str] = {}
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("\t") and current is not None:
            rules[current][1].append(line.strip())
            continue
        current = None
        if m := re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|\?=|=)\s*(.*)$", line):
            variables[m.group(1)] = m.group(2).strip()
        elif (m := re.match(r"^([^\s#:=][^:=]*?)\s*:(?!=)\s*(.*)$", line)) and not line.startswith("."):
            targets = expand(m.group(1), variables).split()
            for target in targets:
                rules.setdefault(target, ([], []))
                rules[target][0].extend(expand(m.group(2), variables).split())
            current = targets[0] if len(targets) == 1 else None

    assert "install" in rules, "the Makefile has no install target"
    recipe: list[str] = []
    todo, seen = ["install"], set()
    while todo:
        target = todo.pop(0)
        if target in seen or target not in rules:
            continue
        seen.add(target)
        prerequisites, lines = rules[target]
        todo.extend(prerequisites)
        recipe.extend(expand(line, variables) for line in lines)
    commands = []
    for line in recipe:
        commands.extend(pip_install_commands(line))
    return commands


def expand(text: str, variables: dict[str, str]) -> str:
    for _ in range(10):
        new = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: variables.get(m.group(1), ""), text)
        if new == text:
            break
        text = new
    return text


def requirement_closure(files: list[str]) -> set[str]:
    """The requirement files and every file they include with -r."""
    closure: set[str] = set()
    todo = list(files)
    while todo:
        name = posixpath.normpath(todo.pop())
        if name in closure:
            continue
        closure.add(name)
        for line in (REPO / name).read_text().splitlines():
            if m := re.match(r"^\s*(?:-r|--requirement)[\s=]+(\S+)", line):
                todo.append(posixpath.join(posixpath.dirname(name), m.group(1)))
    return closure


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern:
    pattern = posixpath.normpath(pattern.strip("/"))
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (a matched folder hides its files)."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


# -- docker-compose.yml ----------------------------------------------------------------------------


def test_compose_parses_with_the_shared_anchor():
    compose = load_compose()
    assert isinstance(compose, dict) and isinstance(compose.get("services"), dict)
    common = compose.get("x-airflow-common")
    assert isinstance(common, dict), "x-airflow-common (the shared Airflow block) is missing"
    assert isinstance(common.get("environment"), dict)


def test_services_exist():
    names = set(services())
    missing = (AIRFLOW_SERVICES | DATABASES | CELERY_SERVICES) - names
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"
    unknown_airflow = {n for n in names if n.startswith("airflow-")} - AIRFLOW_SERVICES
    assert not unknown_airflow, f"unexpected Airflow services (add them to this test): {unknown_airflow}"


def test_airflow_services_build_the_project_image():
    svcs = services()
    images = set()
    for name in AIRFLOW_SERVICES:
        build = svcs[name].get("build")
        if isinstance(build, dict):
            assert build.get("dockerfile", "Dockerfile") == "Dockerfile", name
            build = build.get("context")
        assert build in (".", "./"), f"{name} must use `build: .`, has {build!r}"
        images.add(svcs[name].get("image"))
    assert len(images) == 1, f"Airflow services should share one built image, got {images}"
    assert not str(images.pop() or "").startswith("apache/airflow"), "the image must be our build"
    for name in set(svcs) - AIRFLOW_SERVICES:
        assert "build" not in svcs[name], f"{name} is not an Airflow service and should not build the image"


def test_commands():
    svcs = services()
    for name, expected in COMMANDS.items():
        assert command_text(svcs[name]).split() == expected.split(), f"{name} command"
    init = command_text(svcs["airflow-init"])
    assert "airflow db migrate" in init
    assert "set -e" in init, "airflow-init must stop at the first failing step"


def test_healthchecks():
    svcs = services()
    for name, needle in HEALTHCHECK_MUST_CONTAIN.items():
        text = healthcheck_text(svcs[name])
        assert text and text.split()[0] != "NONE", f"{name} needs a healthcheck"
        assert needle in text, f"{name} healthcheck should check {needle!r}: {text!r}"
    env = environment(svcs["airflow-scheduler"])
    assert env.get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "").lower() == "true", (
        "the scheduler's :8974/health server only runs with AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=true"
    )


def test_init_waits_for_both_databases():
    deps = depends_on(services()["airflow-init"])
    assert deps == {"postgres": "service_healthy", "warehouse": "service_healthy"}


def test_airflow_services_wait_for_init_and_databases():
    svcs = services()
    for name in LONG_RUNNING_AIRFLOW:
        deps = depends_on(svcs[name])
        assert deps.get("airflow-init") == "service_completed_successfully", name
        for db in DATABASES:
            assert deps.get(db) == "service_healthy", f"{name} must wait for {db} to be healthy"
        for dep, condition in deps.items():
            if condition == "service_healthy":
                assert svcs[dep].get("healthcheck"), (
                    f"{name} waits for {dep} healthy, which has no healthcheck"
                )


def test_dependencies_exist_and_respect_profiles():
    svcs = services()
    for name, service in svcs.items():
        for dep in depends_on(service):
            assert dep in svcs, f"{name} depends on unknown service {dep}"
            if not service.get("profiles"):
                assert not svcs[dep].get("profiles"), (
                    f"{name} runs without a profile but depends on {dep}, which only runs with profile "
                    f"{svcs[dep]['profiles']}"
                )


def test_warehouse_is_a_separate_database_with_its_own_volume_and_port():
    compose = load_compose()
    svcs = compose["services"]
    warehouse, metadata = svcs["warehouse"], svcs["postgres"]
    assert str(warehouse.get("image", "")).startswith("postgres")

    def data_volume(service: dict) -> str:
        for volume in service.get("volumes") or []:
            source, _, target = str(volume).partition(":")
            if target.split(":")[0] == "/var/lib/postgresql/data":
                return source
        raise AssertionError("no volume on /var/lib/postgresql/data")

    warehouse_volume, metadata_volume = data_volume(warehouse), data_volume(metadata)
    assert warehouse_volume != metadata_volume
    assert warehouse_volume in (compose.get("volumes") or {}), "the warehouse volume must be a named volume"

    env = sample_env()
    published = []
    for port in warehouse.get("ports") or []:
        if isinstance(port, dict):
            published.append((str(port.get("published")), int(port["target"])))
        else:
            parts = interpolate(str(port), env).split(":")
            if len(parts) >= 2:
                published.append((parts[-2], int(parts[-1].split("/")[0])))
    assert any(target == 5432 and host for host, target in published), "warehouse needs a published port"

    common = environment(compose["x-airflow-common"])
    wh_url = host_of(interpolate(common["ESCALATION_DB_URL"], env))
    wh_env = {k: interpolate(v, env) for k, v in environment(warehouse).items()}
    assert wh_url.drivername == "postgresql+psycopg"
    assert (wh_url.host, wh_url.port or 5432) == ("warehouse", 5432)
    assert wh_url.database == wh_env["POSTGRES_DB"]
    assert wh_url.username == wh_env["POSTGRES_USER"]
    assert wh_url.password == wh_env["POSTGRES_PASSWORD"]

    meta_url = host_of(interpolate(common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], env))
    meta_env = environment(metadata)
    assert meta_url.host == "postgres" and meta_url.database == meta_env["POSTGRES_DB"]
    assert (meta_url.username, meta_url.password) == (
        meta_env["POSTGRES_USER"],
        meta_env["POSTGRES_PASSWORD"],
    )


def test_celery_profile():
    svcs = services()
    for name, service in svcs.items():
        if name in CELERY_SERVICES:
            assert service.get("profiles") == ["celery"], f"{name} belongs to the celery profile only"
        else:
            assert not service.get("profiles"), f"{name} should run by default (no profile)"
    worker = svcs["airflow-worker"]
    assert "container_name" not in worker, "a container_name prevents --scale airflow-worker=N"
    assert not worker.get("ports"), "a published port prevents --scale airflow-worker=N"
    assert depends_on(worker).get("redis") == "service_healthy"

    env = environment(load_compose()["x-airflow-common"])
    broker = env["AIRFLOW__CELERY__BROKER_URL"]
    assert broker.startswith("redis://") and broker.split("@")[-1].split(":")[0] == "redis"
    backend = host_of(env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+"))
    assert backend.host == "postgres"


def test_executor_defaults_to_local_and_can_be_switched_from_env():
    svcs = services()
    for name in AIRFLOW_SERVICES:
        expr = environment(svcs[name]).get("AIRFLOW__CORE__EXECUTOR", "")
        assert interpolate(expr, {}) == "LocalExecutor", name
        assert interpolate(expr, {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}) == "CeleryExecutor", name


def test_airflow_services_share_core_settings():
    svcs = services()
    envs = {name: environment(svcs[name]) for name in AIRFLOW_SERVICES}
    for key in (
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__CORE__FERNET_KEY",
        "ESCALATION_DB_URL",
    ):
        values = {name: env.get(key) for name, env in envs.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), f"{key} differs: {values}"

    jwt = envs["airflow-apiserver"]["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert referenced_vars(jwt) == {"AIRFLOW__API_AUTH__JWT_SECRET"}, "the JWT secret must come from .env"
    assert "AIRFLOW__API_AUTH__JWT_SECRET" in required_vars(jwt), "a missing JWT secret must stop compose"

    env = envs["airflow-scheduler"]
    execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert (execution.scheme, execution.path) == ("http", "/execution/")
    assert execution.hostname == "airflow-apiserver" and execution.hostname in svcs
    assert any(str(p).endswith(f":{execution.port}") for p in svcs["airflow-apiserver"].get("ports", []))
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"].lower() == "false"


def test_init_creates_the_warehouse_schema(tmp_path):
    """Run airflow-init's schema step for real, against SQLite, with the settings it would read."""
    from pipeline.store import migrate
    from pipeline.store.schema import metadata

    init = command_text(services()["airflow-init"])
    steps = [line.strip() for line in init.splitlines() if line.strip().startswith("escalation db upgrade")]
    assert steps, "airflow-init must migrate the warehouse (`escalation db upgrade`)"
    db = tmp_path / "wh.db"
    env = {**os.environ, "ESCALATION_DB_URL": f"sqlite:///{db}"}
    for step in steps:
        args = step.split()[1:]
        subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=REPO, check=True, timeout=120
        )
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        assert set(sa.inspect(engine).get_table_names()) >= set(metadata.tables)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert "escalation_sentences" in sa.inspect(engine).get_view_names()
    finally:
        engine.dispose()


def test_init_writes_the_admin_password_where_the_apiserver_reads_it(tmp_path):
    svcs = services()
    init, api = svcs["airflow-init"], svcs["airflow-apiserver"]
    path = environment(api)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    assert environment(init)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == path
    folder = posixpath.dirname(path)

    def mount(service: dict) -> str | None:
        for volume in service.get("volumes") or []:
            source, _, target = str(volume).partition(":")
            if target.split(":")[0] == folder:
                return source
        return None

    assert mount(init) and mount(init) == mount(api), (
        f"{folder} must be one volume shared by init and api-server"
    )
    command = command_text(init)
    assert re.search(r"\$\$\{?AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", command), command
    # Run the snippet that writes the file: it must produce {user: password} as JSON.
    snippet = next(code for code in re.findall(r'python3? -c "([^"]*)"', command) if "json" in code)
    env = {**os.environ, "AIRFLOW_ADMIN_USERNAME": "root-of-trust", "AIRFLOW_ADMIN_PASSWORD": 'p"w'}
    out = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"root-of-trust": 'p"w'}
    users = environment(api)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
    assert interpolate(users, sample_env()) == f"{sample_env()['AIRFLOW_ADMIN_USERNAME']}:admin"
    assert "AIRFLOW_ADMIN_PASSWORD" in required_vars(COMPOSE_FILE.read_text())


def test_escalation_variables_in_compose_are_settings():
    settings = setting_env_names()
    assert "ESCALATION_DB_URL" in settings  # the derivation from pipeline/config.py works
    compose = load_compose()
    blocks = [compose["x-airflow-common"], *compose["services"].values()]
    for block in blocks:
        for key in environment(block):
            if key.startswith(ENV_PREFIX):
                assert key in settings, (
                    f"{key} is set in docker-compose.yml but is not a setting of config.py"
                )
    common = environment(compose["x-airflow-common"])
    missing = settings - set(common)
    assert not missing, f"settings of config.py not passed to the Airflow services: {sorted(missing)}"
    for key in settings - {"ESCALATION_DB_URL"}:
        assert referenced_vars(common[key]) == {key}, f"{key} should pass ${{{key}}} through from .env"


def test_env_example_lists_every_variable_with_a_comment():
    active, commented, lines = env_example()
    text = COMPOSE_FILE.read_text()
    read_by_compose = referenced_vars(text)
    missing = read_by_compose - set(active)
    assert not missing, (
        f"variables docker-compose.yml reads but .env.example does not list: {sorted(missing)}"
    )
    stale = set(active) - read_by_compose
    assert not stale, f".env.example lists variables docker-compose.yml never reads: {sorted(stale)}"
    undocumented = setting_env_names() - set(active) - commented
    assert not undocumented, f"settings of config.py missing from .env.example: {sorted(undocumented)}"
    for required in required_vars(text):
        assert active[required] == "", f"{required} is a secret: leave it empty in .env.example"
    for i, line in enumerate(lines):
        if re.match(r"#?\s*[A-Z_][A-Z0-9_]*=", line) and not line.startswith("#"):
            above = [prev for prev in lines[:i] if prev.strip()]
            assert above and above[-1].lstrip().startswith("#"), f".env.example: no comment above {line!r}"
    # The example values must interpolate into a valid file (e.g. ports are numbers).
    env = sample_env()
    interpolate(text, env)
    for port_var in ("AIRFLOW_API_PORT", "WAREHOUSE_PORT", "FLOWER_PORT"):
        if port_var in active:
            assert active[port_var].isdigit(), port_var


# -- Dockerfile and .dockerignore ------------------------------------------------------------------


def test_dockerfile_base_image_matches_the_pinned_airflow():
    base = dockerfile_layout()["base"]
    m = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", base or "")
    assert m, f"base image should be the official apache/airflow:<version>-python<x.y>, got {base!r}"
    airflow_version, python_version = m.groups()
    for name in ("requirements.txt", "constraints.txt"):
        pins = re.findall(r"^apache-airflow==(\S+)", (REPO / name).read_text(), flags=re.M)
        assert pins == [airflow_version], f"{name} pins apache-airflow {pins}, the image is {airflow_version}"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.replace(" ", "") == f">={python_version}", (requires, python_version)


def test_dockerfile_installs_like_the_makefile():
    make = makefile_install_pip_commands()
    docker = dockerfile_layout()["pip"]
    assert docker, "the Dockerfile has no pip install"
    make_deps = [c for c in make if c["requirements"]]
    docker_deps = [c for _, c, _ in docker if c["requirements"]]
    assert make_deps and docker_deps

    make_constraints = {f for c in make_deps for f in c["constraints"]}
    make_closure = requirement_closure([f for c in make_deps for f in c["requirements"]])
    for command in docker_deps:
        assert set(command["constraints"]) == make_constraints, (
            f"Dockerfile installs with constraints {command['constraints']}, the Makefile with {make_constraints}"
        )
        for requirement in command["requirements"]:
            assert posixpath.normpath(requirement) in make_closure, (
                f"Dockerfile installs {requirement}, which the Makefile's install does not ({make_closure})"
            )
        assert not command["targets"], f"unpinned packages installed by name: {command['targets']}"

    make_project = [c for c in make if c["targets"] and c["targets"] != ["pip"]]
    docker_project = [c for _, c, _ in docker if c["targets"]]
    assert make_project and all(c["no_deps"] and c["targets"] == ["."] for c in make_project)
    assert docker_project, "the Dockerfile must install the project itself"
    for command in docker_project:
        assert command["targets"] == ["."] and command["no_deps"], (
            f"install the project with --no-deps: {command}"
        )


def test_dockerfile_copies_exist_and_precede_their_use():
    layout = dockerfile_layout()
    sources = layout["sources"]
    for source in sources:
        assert (REPO / source).exists(), f"Dockerfile COPYs {source}, which is not in the repo"
        assert not dockerignored(source), f"Dockerfile COPYs {source}, which .dockerignore excludes"
    copied = {posixpath.normpath(s) for s in sources}
    readme = tomllib.loads((REPO / "pyproject.toml").read_text())["project"].get("readme")
    required = REQUIRED_COPIES | ({readme} if isinstance(readme, str) else set())
    assert required <= copied, f"the image lacks {sorted(required - copied)}"

    copies = layout["copies"]
    for workdir, command, copied_so_far in layout["pip"]:
        for name in command["requirements"] + command["constraints"]:
            image_path = posixpath.normpath(posixpath.join(workdir, name))
            assert image_path in copied_so_far and copies[image_path] == posixpath.normpath(name), (
                f"pip reads {image_path} before it is copied"
            )
        for target in command["targets"]:
            project = posixpath.normpath(posixpath.join(workdir, target))
            for needed in ("pyproject.toml", "pipeline"):
                assert posixpath.join(project, needed) in copied_so_far, (
                    f"{needed} missing when installing {project}"
                )


def test_dockerfile_points_airflow_at_the_copied_dags():
    layout = dockerfile_layout()
    dags_folder = layout["env"].get("AIRFLOW__CORE__DAGS_FOLDER")
    assert dags_folder, "the Dockerfile must set AIRFLOW__CORE__DAGS_FOLDER"
    where = [image for image, repo in layout["copies"].items() if repo == "dags"]
    assert where == [posixpath.normpath(dags_folder)], (
        f"DAGS_FOLDER={dags_folder}, dags/ is copied to {where}"
    )


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "data/warehouse.db",
        ".git/HEAD",
        "pipeline/__pycache__",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/CACHEDIR.TAG",
        ".env",
    ],
)
def test_dockerignore_excludes(path):
    assert dockerignored(path), f".dockerignore should exclude {path}"


def test_dockerignore_keeps_the_sources():
    for path in (
        "pipeline/config.py",
        "pipeline/data/lexicon.yaml",
        "dags/escalation_ingest.py",
        "feeds.yaml",
    ):
        assert not dockerignored(path), f".dockerignore must not exclude {path}"


def test_init_creates_the_fetch_pool_the_ingest_dag_uses():
    """A real scheduler never runs tasks of a pool that does not exist."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("escalation_common", REPO / "dags" / "escalation_common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    init = command_text(services()["airflow-init"])
    pool_lines = [
        shlex.split(line) for line in init.splitlines() if line.strip().startswith("airflow pools set")
    ]
    assert pool_lines, "airflow-init must create the fetch pool"
    (args,) = pool_lines
    assert args[3:5] == [common.FETCH_POOL, str(common.FETCH_POOL_SLOTS)]
    assert init.index("airflow db migrate") < init.index("airflow pools set")
