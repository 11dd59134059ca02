"""Logging: structured JSON for machines, a readable line for a terminal, and no secret ever.

Everything goes through the standard library's logging (the bot's own `logging.getLogger` calls,
Bolt's, aiohttp's) and structlog (`structlog.get_logger`, used for events such as job state
changes) into one handler whose formatter is structlog's `ProcessorFormatter`. Configured secrets
are masked twice: in every field of the event, and in the rendered line as a last line of defence.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal

import structlog

MASK = "[redacted]"
LogFormat = Literal["json", "console"]


class RedactSecrets(logging.Filter):
    """Masks secrets in a stdlib record's message and traceback before any formatter sees it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def processor(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """The same masking as a structlog processor, for every string field of an event."""
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = self.clean(value)
        return event


def default_format() -> LogFormat:
    return "console" if sys.stderr.isatty() else "json"


def configure_logging(secrets: Iterable[str], level: int = logging.INFO, fmt: LogFormat | None = None) -> None:
    redact = RedactSecrets(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact.processor,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if (fmt or default_format()) == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(redact)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact.processor,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request line at INFO; keep the log about the bot's decisions.
    logging.getLogger("httpx").setLevel(logging.WARNING)
