"""The one place an unexpected error is logged: with a short reference the user can quote."""

from __future__ import annotations

import logging
import secrets

log = logging.getLogger("bot.unexpected")


def log_unexpected(error: BaseException, context: str) -> str:
    reference = secrets.token_hex(4)
    log.error("unexpected error [ref %s] in %s", reference, context, exc_info=error)
    return reference
