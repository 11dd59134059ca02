"""A throwaway PostgreSQL server for the tests, as pytest-postgresql runs one: `initdb` and `pg_ctl` from
`pg_config --bindir`, a data directory in a new temporary directory, 127.0.0.1 on a free port (and the
unix socket in that directory), stopped and deleted at the end.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the `postgres` user
(`runuser -u postgres --`), in a temporary directory it owns. `.ci/run` installs PostgreSQL with apt-get
where it is missing; without it these fixtures fail, loudly, instead of skipping.

Fixtures (registered in tests/conftest.py):

* `postgres_server` (session): the shared server;
* `postgres_url` (function): a new, empty database on it owned by a login role with a password, as
  `postgresql://restore_bot:<password>@127.0.0.1:<port>/<database>`; dropped after the test;
* `own_postgres_server` (function): a server of the test's own, for tests that stop or restart it.

The test servers trade durability for speed (`fsync=off`); `PostgresServer(durable=True)` keeps
PostgreSQL's defaults, for benchmarks.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import asyncpg
import pytest
import pytest_asyncio

from tests.fakes.ports import free_port

__all__ = [
    "APP_USER",
    "PostgresNotInstalled",
    "PostgresServer",
    "own_postgres_server",
    "postgres_server",
    "postgres_url",
]

SUPERUSER = "postgres"
#: The role the bot connects as in the tests: not a superuser, the owner of its database.
APP_USER = "restore_bot"
START_TIMEOUT = 30
INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install -y postgresql; .ci/run does this where it is missing)"


class PostgresNotInstalled(RuntimeError):
    pass


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl are, as `pg_config --bindir` says. Raises PostgresNotInstalled."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise PostgresNotInstalled(f"PostgreSQL is not installed (no pg_config on PATH): {INSTALL_HINT}")
    bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
    missing = [tool for tool in ("initdb", "pg_ctl", "postgres") if not (bindir / tool).exists()]
    if missing:
        raise PostgresNotInstalled(
            f"the PostgreSQL server is not installed ({', '.join(missing)} missing from {bindir}): {INSTALL_HINT}"
        )
    return bindir


class PostgresServer:
    """One PostgreSQL server in a temporary directory. `start()`, `stop()`, `restart()`, `destroy()`; the
    async forms keep the caller's event loop running while pg_ctl waits."""

    def __init__(self, *, durable: bool = False) -> None:
        self.bindir = postgres_bindir()
        self.durable = durable
        self.superuser_password = secrets.token_urlsafe(16)
        self.app_password = secrets.token_urlsafe(16)
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="restore-bot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._initialised = False

    # -- commands ----------------------------------------------------------------------------------

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        # PostgreSQL refuses to run as root; CI runs as root.
        return ["runuser", "-u", SUPERUSER, "--", *command] if self._as_postgres else command

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(self._command(tool, *args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n{self.log_tail()}")

    async def _run_async(self, tool: str, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._command(tool, *args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{output.decode()}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _initdb(self) -> None:
        if self._as_postgres:
            try:
                account = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresNotInstalled(
                    f"running as root, but there is no {SUPERUSER} user: {INSTALL_HINT}"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
        password_file = self.root / "superuser-password"
        password_file.write_text(self.superuser_password + "\n")
        if self._as_postgres:
            os.chown(password_file, pwd.getpwnam(SUPERUSER).pw_uid, -1)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(password_file),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        password_file.unlink()
        self._initialised = True

    def _server_options(self) -> str:
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "max_connections": "200",
            "shared_buffers": "32MB",
        }
        if not self.durable:
            options |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        return " ".join(f"-c {key}={value}" for key, value in options.items())

    def _start_args(self) -> tuple[str, ...]:
        return (
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            f"--timeout={START_TIMEOUT}",
            "-o",
            self._server_options(),
            "start",
        )

    def _stop_args(self, mode: str) -> tuple[str, ...]:
        return ("--pgdata", str(self.data), "--wait", f"--timeout={START_TIMEOUT}", "--mode", mode, "stop")

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if not self._initialised:
            self._initdb()
        attempts = 3 if self.port == 0 else 1
        for attempt in range(1, attempts + 1):
            if attempts > 1:
                self.port = free_port()  # another process may take it first: then try another
            try:
                self._run("pg_ctl", *self._start_args())
            except RuntimeError:
                if attempt == attempts:
                    raise
                continue
            break
        self._create_app_role()

    def _create_app_role(self) -> None:
        async def create() -> None:
            connection = await asyncpg.connect(self.superuser_url())
            try:
                exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_USER)
                if not exists:
                    await connection.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{self.app_password}'")
            finally:
                await connection.close()

        asyncio.run(create())

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", *self._stop_args(mode))

    async def stop_async(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: disconnect every client, as a restart or a failover does)."""
        await self._run_async("pg_ctl", *self._stop_args(mode))

    async def start_async(self) -> None:
        """Start the server again, on the same port."""
        await self._run_async("pg_ctl", *self._start_args())

    async def restart_async(self) -> None:
        """Restart the server (`fast`: every client is disconnected), on the same port."""
        await self._run_async(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            f"--timeout={START_TIMEOUT}",
            "--mode",
            "fast",
            "-o",
            self._server_options(),
            "restart",
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self._initialised and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.destroy()

    # -- databases ---------------------------------------------------------------------------------

    def superuser_url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.superuser_password}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """The bot's URL for `database`: the application role, with its password."""
        return f"postgresql://{APP_USER}:{self.app_password}@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        """A new, empty database owned by the application role; its name."""
        name = f"test_{secrets.token_hex(6)}"
        connection = await asyncpg.connect(self.superuser_url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}" OWNER {APP_USER}')
        finally:
            await connection.close()
        return name

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.superuser_url())
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def _server_or_fail(durable: bool = False) -> PostgresServer:
    try:
        return PostgresServer(durable=durable)
    except PostgresNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (fails the tests that need it when PostgreSQL is not installed)."""
    with _server_or_fail() as server:
        yield server


@pytest_asyncio.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh database for this test on the session's server, as the bot's URL (with the password)."""
    name = await postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        await postgres_server.drop_database(name)


@pytest.fixture
def own_postgres_server() -> Iterator[PostgresServer]:
    """A server for this test alone: it may stop, restart or break it."""
    with _server_or_fail() as server:
        yield server
