"""The container: Dockerfile, .dockerignore and compose.example.yaml.

The static tests always run: they read the files and check what a deployment relies on (a non-root
user, the health check on /healthz, the store on a volume, the command; no secrets in the compose
file), and they run the health-check command itself against a real bot process.

`test_the_image_builds_and_runs_as_non_root` needs a Docker engine. Without one it is *skipped*,
with the reason, never passed: a missing engine proves nothing about the image.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.harness import REPO, BotProcess
from tests.fakes.ports import free_port

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "compose.example.yaml"
SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PINECONE_API_KEY")
STORE_URL = "sqlite:////data/restore-bot.sqlite3"


# --- reading a Dockerfile -------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str] | None:
        """The JSON-array form of CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for the shell form."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            found = re.search(r"\bCMD\s+(.*)$", text, re.S)
            if found is None:
                return None
            text = found[1]
        text = text.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list) and all(isinstance(part, str) for part in value)
        return value


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions of the final stage, with line continuations joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker too
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, args = whole.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    stages = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    assert stages, "a Dockerfile starts with FROM"
    return instructions[stages[-1] :]


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for pair in shlex.split(ins.args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [ins for ins in instructions if ins.keyword == keyword]


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def healthcheck_code(command: list[str]) -> str:
    """The Python a health check runs: `python -c CODE`, with no shell and no curl."""
    assert command[:2] == ["python", "-c"] and len(command) == 3, command
    return command[2]


# --- static: the Dockerfile -------------------------------------------------------------------------


def test_the_image_is_python_3_11_slim_and_installs_the_project(dockerfile: list[Instruction]) -> None:
    assert dockerfile[0].args.split()[0] == "python:3.11-slim"
    runs = " ".join(ins.args for ins in only(dockerfile, "RUN"))
    assert re.search(r"\bpip install \.(\s|$)", runs), runs


def test_the_bot_runs_as_a_non_root_user(dockerfile: list[Instruction]) -> None:
    users = only(dockerfile, "USER")
    assert users, "no USER: the bot would run as root"
    user, _, group = users[-1].args.partition(":")
    assert user not in ("root", "0", "") and group not in ("root", "0")
    # Nothing after the last USER switches back to root.
    assert dockerfile.index(users[-1]) > max(dockerfile.index(ins) for ins in only(dockerfile, "RUN"))


def test_the_store_is_on_a_volume(dockerfile: list[Instruction]) -> None:
    assert env_of(dockerfile)["DATABASE_URL"] == STORE_URL
    volumes: list[str] = []
    for ins in only(dockerfile, "VOLUME"):
        volumes.extend(json.loads(ins.args) if ins.args.startswith("[") else ins.args.split())
    assert "/data" in volumes
    runs = " ".join(ins.args for ins in only(dockerfile, "RUN"))
    assert re.search(r"chown \S+ /data", runs), "the non-root user must be able to write /data"


def test_port_healthcheck_and_command(dockerfile: list[Instruction]) -> None:
    assert any("3000" in ins.args.split() for ins in only(dockerfile, "EXPOSE"))
    assert env_of(dockerfile).get("PORT", "3000") == "3000"
    [healthcheck] = only(dockerfile, "HEALTHCHECK")
    command = healthcheck.exec_form()
    assert command is not None, "HEALTHCHECK CMD in exec form"
    code = healthcheck_code(command)
    assert "/healthz" in code and "urllib" in code and "curl" not in healthcheck.args
    [cmd] = only(dockerfile, "CMD")
    assert cmd.exec_form() == ["python", "-m", "bot"], "exec form, so the bot is PID 1 and gets SIGTERM"
    assert not only(dockerfile, "ENTRYPOINT")


def test_no_secret_is_baked_into_the_image(dockerfile: list[Instruction]) -> None:
    env = env_of(dockerfile)
    for variable in SECRET_VARIABLES:
        assert variable not in env
        assert not any(variable in ins.args for ins in only(dockerfile, "ARG"))
    assert not re.search(r"xox[bpa]-|xapp-", DOCKERFILE.read_text())


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()}
    for required in (".venv", ".git", ".env", "*.sqlite3", ".pytest_cache", ".mypy_cache", "tests"):
        assert required in patterns, required
    # What the build needs must not be ignored.
    for needed in ("pyproject.toml", "README.md", "bot", "handlers", "storage"):
        assert needed not in patterns, needed


# --- static: compose.example.yaml ----------------------------------------------------------------


def test_compose_has_the_service_volume_and_healthcheck(compose: dict[str, Any]) -> None:
    [(name, service)] = compose["services"].items()
    assert name == "restore-bot"
    assert service["build"] == "."
    assert service["env_file"] in (".env", [".env"])
    assert service["environment"]["DATABASE_URL"] == STORE_URL
    assert any(str(port).endswith(":3000") for port in service["ports"])
    volumes = [str(v) for v in service["volumes"]]
    named = [v.split(":")[0] for v in volumes if v.split(":")[1:2] == ["/data"]]
    assert named and named[0] in compose["volumes"], "the store is on a named volume"
    healthcheck = service["healthcheck"]
    assert healthcheck["test"][0] == "CMD"
    assert "/healthz" in healthcheck_code(healthcheck["test"][1:])
    grace = str(service.get("stop_grace_period", "10s"))
    assert grace.endswith("s") and float(grace[:-1]) > 20, "SIGTERM drains for up to 20 s"


def test_compose_holds_no_literal_secrets(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for variable in SECRET_VARIABLES:
            value = environment.get(variable)
            assert value is None or re.fullmatch(r"\$\{?\w+(:?[-?][^}]*)?\}?", str(value)), (
                f"{variable} must come from env_file or ${{...}}, not be written in the compose file"
            )
    assert not re.search(r"xox[bpa]-|xapp-", COMPOSE.read_text())


# --- the health-check command, run for real ----------------------------------------------------


async def run_python(code: str, env: dict[str, str]) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=30)


async def test_the_healthcheck_commands_pass_on_a_running_bot_and_fail_without_one(
    bot: BotProcess, dockerfile: list[Instruction], compose: dict[str, Any]
) -> None:
    [healthcheck] = only(dockerfile, "HEALTHCHECK")
    command = healthcheck.exec_form()
    assert command is not None
    [service] = compose["services"].values()
    for code in {healthcheck_code(command), healthcheck_code(service["healthcheck"]["test"][1:])}:
        # A proxy in the environment must not capture the loopback request.
        env = {"PATH": "/usr/bin:/bin", "PORT": str(bot.port), "http_proxy": "http://127.0.0.1:9"}
        assert await run_python(code, env) == 0
        assert await run_python(code, {**env, "PORT": str(free_port())}) != 0


# --- the image, built and run -----------------------------------------------------------------------


def docker_engine_problem() -> str | None:
    """None when a Docker engine answers; otherwise why not, in one line."""
    if shutil.which("docker") is None:
        return "no docker command on PATH"
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=10
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 10 s"
    if result.returncode != 0 or not result.stdout.strip():
        lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        return lines[-1] if lines else f"`docker info` exited with {result.returncode}"
    return None


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def wait_until(predicate: Any, *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.5)


@pytest.mark.timeout(1200)
def test_the_image_builds_and_runs_as_non_root() -> None:
    problem = docker_engine_problem()
    if problem is not None:
        pytest.skip(f"Docker engine not available: {problem}; the container was not built or run")

    tag = f"restore-bot-test:{uuid.uuid4().hex[:12]}"
    name = f"restore-bot-test-{uuid.uuid4().hex[:12]}"
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-container-test-token",
        "SLACK_SIGNING_SECRET": "container-test-signing-secret",
        "PINECONE_API_KEY": "container-test-pinecone-key",
    }
    try:
        docker("build", "--pull", "-t", tag, str(REPO), timeout=900)
        env_args = [arg for key, value in secrets.items() for arg in ("-e", f"{key}={value}")]
        docker(
            "run",
            "-d",
            "--name",
            name,
            "-p",
            "127.0.0.1::3000",
            "--health-interval",
            "2s",
            *env_args,
            # Nothing listens there: the bot must still start and be healthy.
            "-e",
            "SLACK_API_URL=http://127.0.0.1:9/api/",
            "-e",
            "PINECONE_CONTROLLER_HOST=http://127.0.0.1:9",
            tag,
        )
        published = docker("port", name, "3000/tcp").stdout.strip().splitlines()[0]
        url = f"http://{published}/healthz"

        def healthz_ok() -> bool:
            try:
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthz_ok, timeout=60, what=f"{url} to answer 200")
        assert docker("exec", name, "id", "-u").stdout.strip() not in ("", "0")
        wait_until(
            lambda: docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip() == "healthy",
            timeout=60,
            what="Docker's HEALTHCHECK to report healthy",
        )
        assert "restore-bot.sqlite3" in docker("exec", name, "ls", "/data").stdout

        check = docker("exec", name, "python", "-m", "bot", "check", check=False)
        output = check.stdout + check.stderr
        assert check.returncode == 1 and "FAIL slack" in output and "FAIL pinecone" in output, output
        assert "ok   database: /data/restore-bot.sqlite3" in output and "Traceback" not in output

        docker("stop", "-t", "30", name, timeout=60)
        assert docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"
        logged = docker("logs", name)
        logs = logged.stdout + logged.stderr
        assert "restore-bot stopped" in logs
        for secret in secrets.values():
            assert secret not in logs and secret not in output
    finally:
        docker("rm", "-f", "-v", name, check=False)
        docker("rmi", "-f", tag, check=False)
