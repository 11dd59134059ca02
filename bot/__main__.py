"""`python -m bot`: start restore-bot with settings from the environment."""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import ValidationError

from bot.app.check import check_main
from bot.app.logs import configure_logging
from bot.app.runtime import serve
from bot.app.settings import Settings, describe_settings_error
from bot.core.policy.policy_file import PolicyError, check_policy_main
from storage import StoreError


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
    except StoreError as exc:
        log.error("cannot start: %s (check DATABASE_URL)", exc)
    except OSError as exc:
        log.error("cannot start: %s (is PORT %d free?)", exc.strerror or exc, settings.port)
    return 1


if __name__ == "__main__":
    sys.exit(main())
