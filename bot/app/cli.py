"""`python -m bot [check | check-policy FILE]`: start the bot, or check a deployment or a policy file."""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import ValidationError

from bot.app.check import check_main
from bot.app.logs import configure_logging
from bot.app.runtime import serve
from bot.app.settings import Settings, describe_settings_error
from bot.core.policy.policy_loader import PolicyError, load_policy
from bot.core.policy.policy_rules import describe
from storage import StoreUnavailable


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["check-policy"]:
        return check_policy_main(args[1:])
    if args[:1] == ["check"]:
        return check_main(args[1:])
    if args:
        print("usage: python -m bot [check | check-policy FILE]", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except ValidationError as exc:
        for line in describe_settings_error(exc):
            print(f"restore-bot: cannot start: {line}", file=sys.stderr)
        return 2
    configure_logging(settings.secrets(), fmt=settings.log_format)
    log = logging.getLogger("bot")
    try:
        return asyncio.run(serve(settings))
    except PolicyError as exc:
        for line in exc.lines:
            print(f"restore-bot: cannot start: RESTORE_BOT_POLICY: {line}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        log.error("cannot start: %s (check DATABASE_URL)", exc)
    except OSError as exc:
        log.error("cannot start: %s (is PORT %d free?)", exc.strerror or exc, settings.port)
    return 1


def check_policy_main(argv: list[str]) -> int:
    """Check a policy file: print a summary and return 0, or print its problems to stderr and return 1."""
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m bot check-policy FILE", file=sys.stderr)
        return 2
    try:
        policy = load_policy(argv[0])
    except PolicyError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1
    except Exception as exc:  # a checker must report, never crash with a traceback
        print(f"{argv[0]}: cannot check: {exc}", file=sys.stderr)
        return 1
    print(f"policy OK: {argv[0]}")
    for line in describe(policy):
        print(f"  {line}")
    return 0
