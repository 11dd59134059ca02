"""The last line of defence: configured secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest

from bot.app.logs import MASK, RedactSecrets


def test_secrets_are_masked_in_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactSecrets(["xoxb-secret-1", "pc-key-2"]))
    try:
        with caplog.at_level(logging.INFO, logger="test.redact"):
            logger.info("token %s and key pc-key-2", "xoxb-secret-1")
            try:
                raise RuntimeError("boom with xoxb-secret-1")
            except RuntimeError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    text = caplog.text
    assert "xoxb-secret-1" not in text and "pc-key-2" not in text
    assert text.count(MASK) >= 3
