"""`python -m bot check`: is this deployment's configuration usable, before (or while) the bot runs?

It checks, in order, and prints one line per check:

* **settings**: the same `Settings` class as start-up, with the same one-line-per-variable messages;
* **policy**: the `RESTORE_BOT_POLICY` file (through `load_policy`) or, without one, the simple settings;
* **slack**: `auth.test` with the bot token at `SLACK_API_URL` (and, when Slack says which scopes the
  token has, that none of those manifest.yml asks for is missing); in Socket Mode also
  `apps.connections.open` with the app-level token (read-only: the URL it returns is not used);
* **channels**: `conversations.info` for every channel the policy names and the incident channel: a
  private channel the bot is not in, or an archived one, fails with the fix (`/invite @restore-bot`).
  Read-only: a public channel the bot is not in is ok, and the bot joins it at start-up;
* **pinecone**: one read-only call, `GET /backups?limit=1`, at `PINECONE_CONTROLLER_HOST`;
* **database**: `DATABASE_URL` is opened (a SQLite file is created if missing) and migrated; its schema
  version and number of active jobs are reported. A PostgreSQL URL is shown without its password.

Each check is bounded by a short timeout and turns every failure, network errors included, into
one ``FAIL`` line saying which setting to look at. Nothing printed ever contains a secret (the
database password included) or a traceback. The checks return `CheckResult` values; only
`check_main` prints, so the wording is testable without a terminal. Exit code 0 when every check is
ok, 1 otherwise, 2 for wrong arguments.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.logs import MASK, configure_logging
from bot.app.settings import Settings, describe_settings_error
from bot.app.wiring import channels_to_check, policy_for
from bot.core.channels import ChannelFacts, problem_line, reach_of
from bot.core.policy.policy_loader import PolicyError
from bot.core.policy.policy_model import POLICY_ENV, Policy
from bot.core.urls import safe_url, url_password
from bot.pinecone import PineconeClient
from bot.pinecone.errors import (
    Forbidden,
    NotFound,
    PaymentRequired,
    PineconeAPIError,
    PineconeError,
    PineconeUnreachable,
    RateLimited,
    ServerError,
    Unauthenticated,
)
from bot.service.channels import REQUIRED_SCOPES
from bot.slack.publisher import scopes_in
from storage import StoreUnavailable, open_store, store_location

__all__ = [
    "CHECK_TIMEOUT",
    "CheckResult",
    "check_channel",
    "check_database",
    "check_main",
    "check_pinecone",
    "check_policy",
    "check_settings",
    "check_slack",
    "run_checks",
    "safe_url",
]

CHECK_TIMEOUT = 10.0
"""Seconds each network or database check may take before it is reported as failed."""

# Slack errors that mean "this token is not usable": the fix is the setting, not Slack.
_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "no_permission",
        "missing_scope",
        "ekm_access_denied",
    }
)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    name: str
    detail: str = ""
    skipped: bool = False

    @property
    def line(self) -> str:
        status = "skip" if self.skipped else "ok" if self.ok else "FAIL"
        return f"{status:<4} {self.name}" + (f": {self.detail}" if self.detail else "")


def _ok(name: str, detail: str = "") -> CheckResult:
    return CheckResult(True, name, detail)


def _fail(name: str, detail: str) -> CheckResult:
    return CheckResult(False, name, detail)


# --- settings and policy (no network) ---------------------------------------------------------


def check_settings() -> tuple[Settings | None, list[CheckResult]]:
    """Read the settings from the environment, as start-up does."""
    try:
        settings = Settings()
    except ValidationError as exc:
        return None, [_fail("settings", line) for line in describe_settings_error(exc)]
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode"
    return settings, [_ok("settings", mode)]


def check_policy(settings: Settings) -> list[CheckResult]:
    """The policy start-up would use: the file in RESTORE_BOT_POLICY, else the simple settings."""
    try:
        policy = policy_for(settings)
    except PolicyError as exc:
        return [_fail("policy", f"{POLICY_ENV}: {line}") for line in exc.lines]
    except Exception as exc:  # a checker reports, it never crashes
        return [_fail("policy", f"{POLICY_ENV}: cannot check: {type(exc).__name__}")]
    source = str(settings.policy_path) if settings.policy_path is not None else "RESTORE_BOT_ALLOWED_CHANNELS"
    return [_ok("policy", f"{_policy_summary(policy)} (from {source})")]


def _policy_summary(policy: Policy) -> str:
    count = len(policy.channels)
    parts = [f"{count} channel{'s' if count != 1 else ''}"]
    if policy.defaults is not None:
        parts.append("defaults for other channels")
    elif count == 0:
        parts.append("every restore is refused until channels are configured")
    parts.append(f"incident channel {policy.incident_channel}" if policy.incident_channel else "no incident channel")
    return ", ".join(parts)


# --- Slack ------------------------------------------------------------------------------------


async def check_slack(
    settings: Settings, *, seconds: float = CHECK_TIMEOUT, channels: Iterable[str] = ()
) -> list[CheckResult]:
    """`auth.test` (and the token's scopes), the app-level token in Socket Mode, then each of `channels`."""
    results = await _slack_auth_test(settings, seconds)
    if settings.slack_app_token is not None:
        results.append(await _slack_app_token(settings, seconds))
    if results[0].ok:
        for channel_id in channels:
            results.append(await check_channel(settings, channel_id, seconds=seconds))
    return results


async def _slack_auth_test(settings: Settings, seconds: float) -> list[CheckResult]:
    name = "slack"
    client = _slack_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, seconds)
    try:
        async with asyncio.timeout(seconds):
            response = await client.auth_test()
    except Exception as exc:
        return [_fail(name, describe_slack_failure("auth.test", exc, settings, "SLACK_BOT_TOKEN", seconds))]
    user = response.get("user") or response.get("user_id") or "?"
    team = response.get("team") or response.get("team_id") or "?"
    results = [_ok(name, f"auth.test as @{user} in {team}")]
    granted = scopes_in(getattr(response, "headers", None))
    if granted is not None and not granted >= REQUIRED_SCOPES:
        missing = ", ".join(sorted(REQUIRED_SCOPES - granted))
        results.append(_fail("slack scopes", f"the bot token lacks {missing}: reinstall the app from manifest.yml"))
    return results


async def check_channel(settings: Settings, channel_id: str, *, seconds: float = CHECK_TIMEOUT) -> CheckResult:
    """Whether the bot can post in the channel (read-only: it never joins one here)."""
    name = f"channel {channel_id}"
    client = _slack_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, seconds)
    try:
        async with asyncio.timeout(seconds):
            response = await client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        if _slack_error_code(exc.response) != "channel_not_found":
            detail = describe_slack_failure("conversations.info", exc, settings, "SLACK_BOT_TOKEN", seconds)
            if _slack_error_code(exc.response) == "missing_scope":
                detail += " (channels:read, groups:read): reinstall the app from manifest.yml"
            return _fail(name, detail)
        facts: ChannelFacts | None = None
    except Exception as exc:
        return _fail(name, describe_slack_failure("conversations.info", exc, settings, "SLACK_BOT_TOKEN", seconds))
    else:
        info = response.get("channel") or {}
        facts = ChannelFacts(
            is_private=bool(info.get("is_private")),
            is_member=bool(info.get("is_member")),
            is_archived=bool(info.get("is_archived")),
            name=str(info["name"]) if info.get("name") else None,
        )
    reach = reach_of(channel_id, facts)
    if not reach.can_post:
        return _fail(name, problem_line(reach).split(": ", 1)[1])
    assert facts is not None
    kind = "private" if facts.is_private else "public"
    where = f"#{facts.name}, {kind}" if facts.name else kind
    if facts.is_member:
        return _ok(name, f"{where}, restore-bot is a member")
    return _ok(name, f"{where}; restore-bot is not in it yet and joins it at start-up")


async def _slack_app_token(settings: Settings, seconds: float) -> CheckResult:
    name = "slack socket mode"
    assert settings.slack_app_token is not None
    client = _slack_client(None, settings.slack_api_url, seconds)
    try:
        async with asyncio.timeout(seconds):
            await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except Exception as exc:
        return _fail(name, describe_slack_failure("apps.connections.open", exc, settings, "SLACK_APP_TOKEN", seconds))
    return _ok(name, "apps.connections.open accepted SLACK_APP_TOKEN")


def _slack_client(token: str | None, base_url: str, seconds: float) -> AsyncWebClient:
    # No retry handlers: a check answers once, within its time limit.
    return AsyncWebClient(token=token, base_url=base_url, timeout=max(1, int(seconds)), retry_handlers=[])


def describe_slack_failure(method: str, error: BaseException, settings: Settings, variable: str, seconds: float) -> str:
    """What went wrong with one Slack call, and which setting to look at."""
    where = safe_url(settings.slack_api_url)
    if isinstance(error, SlackApiError):
        response: Any = error.response
        code = _slack_error_code(response)
        if code in _TOKEN_ERRORS:
            return f"{method}: Slack answered {code}: check {variable}"
        if code:
            return f"{method}: Slack answered {code}"
        status = getattr(response, "status_code", "?")
        return f"{method}: {where} answered HTTP {status} without a Slack API answer: check SLACK_API_URL"
    if isinstance(error, TimeoutError):
        return f"{method}: no answer from {where} within {seconds:g} s: check SLACK_API_URL and the network"
    if isinstance(error, SlackClientError | OSError) or _is_aiohttp_error(error):
        return f"{method}: cannot reach {where} ({type(error).__name__}): check SLACK_API_URL and the network"
    return f"{method}: unexpected error ({type(error).__name__})"


def _slack_error_code(response: Any) -> str:
    try:
        return str(response.get("error") or "")
    except Exception:
        return ""


def _is_aiohttp_error(error: BaseException) -> bool:
    return type(error).__module__.startswith("aiohttp")


# --- Pinecone ---------------------------------------------------------------------------------


async def check_pinecone(settings: Settings, *, seconds: float = CHECK_TIMEOUT) -> CheckResult:
    name = "pinecone"
    where = safe_url(settings.pinecone_controller_host)
    http = httpx.AsyncClient(
        base_url=settings.pinecone_controller_host,
        timeout=httpx.Timeout(seconds, connect=min(5.0, seconds)),
        headers={"User-Agent": "restore-bot/0.1 (check)"},
    )
    client = PineconeClient(http, settings.pinecone_api_key.get_secret_value(), read_attempts=1)
    try:
        async with asyncio.timeout(seconds):
            await client.list_backups(limit=1)
    except Exception as exc:
        return _fail(name, describe_pinecone_failure(exc, where, seconds))
    finally:
        await client.aclose()
    return _ok(name, f"{where} accepted the API key (list backups)")


_CHECK_HOST = "check PINECONE_CONTROLLER_HOST"


def describe_pinecone_failure(error: BaseException, where: str, seconds: float) -> str:
    """What went wrong with the read-only Pinecone call, and which setting to look at."""
    if isinstance(error, Unauthenticated):
        return f"the API key was rejected ({error.status}): check PINECONE_API_KEY"
    if isinstance(error, Forbidden):
        return f"the API key may not list backups ({error.status}): check PINECONE_API_KEY's project and role"
    if isinstance(error, PaymentRequired):
        return f"the organisation has unpaid invoices ({error.status}): ask a Pinecone organisation owner"
    if isinstance(error, NotFound):
        return f"{where} has no backups endpoint ({error.status}): check PINECONE_CONTROLLER_HOST"
    if isinstance(error, RateLimited):
        return f"Pinecone is rate limiting ({error.status}): try again in a minute"
    if isinstance(error, ServerError):
        return f"Pinecone answered {error.status}: try again later; see status.pinecone.io"
    if isinstance(error, PineconeAPIError):
        return f"Pinecone answered {error.status} {error.code}: check PINECONE_CONTROLLER_HOST and PINECONE_API_KEY"
    if isinstance(error, TimeoutError):
        return f"no answer from {where} within {seconds:g} s: check PINECONE_CONTROLLER_HOST and the network"
    if isinstance(error, PineconeUnreachable):
        # The client's wording: "Pinecone could not be reached (ConnectError)", "Pinecone timed out (...)",
        # or a 2xx whose body does not match the API spec (a host that is not Pinecone's API).
        text = str(error).removeprefix("Pinecone ")
        if text.startswith("could not be reached"):
            return f"cannot reach {where} {text.removeprefix('could not be reached ')}: {_CHECK_HOST} and the network"
        if text.startswith("timed out"):
            return f"no answer from {where} within {seconds:g} s: {_CHECK_HOST} and the network"
        return f"{where}: {text}: {_CHECK_HOST}"
    if isinstance(error, PineconeError):
        return f"{where}: {type(error).__name__}: check PINECONE_CONTROLLER_HOST"
    return f"unexpected error ({type(error).__name__})"


# --- database ---------------------------------------------------------------------------------


async def check_database(settings: Settings, *, seconds: float = CHECK_TIMEOUT) -> CheckResult:
    """Open (creating if missing) and migrate the job store, as start-up does, then close it."""
    name = "database"
    where = store_location(settings.database_url)  # a path, or a URL without its password
    sqlite = settings.database_kind == "sqlite"
    try:
        async with asyncio.timeout(seconds):
            store = await open_store(
                settings.database_url, busy_timeout_ms=int(min(seconds / 2, 5.0) * 1000), pool_size=1
            )
            try:
                version = await store.schema_version()
                active = len(await store.active_jobs())
            finally:
                await store.close()
    except StoreUnavailable as exc:
        return _fail(name, f"{exc}: check DATABASE_URL")
    except TimeoutError:
        why = "locked by another writer?" if sqlite else "is the server up and reachable?"
        return _fail(name, f"{where}: not opened within {seconds:g} s ({why}): check DATABASE_URL")
    except Exception as exc:
        # A PostgreSQL error's wording is not printed: it might quote the URL.
        detail = f"{type(exc).__name__}: {exc}" if sqlite else type(exc).__name__
        return _fail(name, f"{where}: {detail}: check DATABASE_URL")
    return _ok(name, f"{where}, schema {version}, {active} active job{'s' if active != 1 else ''}")


# --- running them -----------------------------------------------------------------------------


async def run_checks(settings: Settings, *, seconds: float = CHECK_TIMEOUT) -> list[CheckResult]:
    """Every check after the settings, in a fixed order; the network and database ones run together."""
    results = check_policy(settings)
    try:
        channels = channels_to_check(policy_for(settings))
    except Exception:  # the policy check above has said what is wrong with it
        channels = []

    async def guarded(name: str, check: Callable[[], Awaitable[list[CheckResult]]]) -> list[CheckResult]:
        try:
            return await check()
        except Exception as exc:  # each check catches its own; this keeps any gap a FAIL line
            return [_fail(name, f"unexpected error ({type(exc).__name__})")]

    async def pinecone() -> list[CheckResult]:
        return [await check_pinecone(settings, seconds=seconds)]

    async def database() -> list[CheckResult]:
        return [await check_database(settings, seconds=seconds)]

    for found in await asyncio.gather(
        guarded("slack", lambda: check_slack(settings, seconds=seconds, channels=channels)),
        guarded("pinecone", pinecone),
        guarded("database", database),
    ):
        results.extend(found)
    return results


_SECRET_VARIABLES = frozenset({"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PINECONE_API_KEY"})


def secrets_of(settings: Settings | None, environ: Mapping[str, str]) -> list[str]:
    """Every configured secret: from the settings, and from the environment in case they did not load."""
    found = [value for key, value in environ.items() if key.upper() in _SECRET_VARIABLES and value]
    found.extend(url_password(environ.get("DATABASE_URL", "")))
    if settings is not None:
        found.extend(settings.secrets())
    return found


def redact(line: str, secrets: Iterable[str]) -> str:
    """A last line of defence: no check's wording should contain a secret, but none ever gets out."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        line = line.replace(secret, MASK)
    return line


def check_main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m bot check", file=sys.stderr)
        return 2
    settings, results = check_settings()
    secrets = secrets_of(settings, os.environ)
    # Libraries' own log records (retries, unclosed sessions) are not the report; keep only the
    # gravest, and those redacted.
    configure_logging(secrets, level=logging.CRITICAL)
    if settings is None:
        results.append(
            CheckResult(False, "policy, slack, pinecone, database", "not checked: fix the settings first", True)
        )
    else:
        try:
            results.extend(asyncio.run(run_checks(settings)))
        except Exception as exc:  # never a traceback
            results.append(_fail("check", f"unexpected error ({type(exc).__name__})"))
    for result in results:
        print(redact(result.line, secrets), flush=True)
    return 0 if all(result.ok for result in results) else 1
