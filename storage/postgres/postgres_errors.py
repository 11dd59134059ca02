"""What asyncpg and the network raise for "the database could not do it", and describing it without a password."""

from __future__ import annotations

import asyncpg

#: Everything asyncpg and the network raise for "the database could not do it".
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
#: ... and, while connecting, a URL asyncpg cannot read.
OPEN_ERRORS: tuple[type[BaseException], ...] = (*DATABASE_ERRORS, ValueError)
#: The connection itself is gone (server restarted, connection reset): a fresh one may work.
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError: "connection was closed in the middle of operation"
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,  # "connection is closed"
    ConnectionError,
)


def describe(error: BaseException, secrets: list[str]) -> str:
    """The error's type and message, with every secret in `secrets` replaced."""
    text = str(error).strip()
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
