"""Every slash command, action, callback and block ID the bot registers, in one place."""

from __future__ import annotations

RESTORE_COMMAND = "/restore-index"
