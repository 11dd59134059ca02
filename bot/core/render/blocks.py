"""The building blocks of every message: `Message`, escaping, Slack's limits, dates and durations.

Slack's limits (≤ 50 blocks, section text ≤ 3000 characters, header ≤ 150) are respected here so no
caller has to think about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core import ids

SECTION_LIMIT = 3000


HEADER_LIMIT = 150


MAX_BLOCKS = 50


COMMAND = "/restore-index"


EXAMPLE = 'a65ff585-d987-4da5-a622-72e19a6ed5f4 restored-index env=prod team="search infra" --deletion-protection'


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Slack mrkdwn control characters; user and Pinecone text must not become markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section_block(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))


def context_block(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_LIMIT))])


def build_message(text: str, blocks: Sequence[Block]) -> Message:
    rendered = [block.to_dict() for block in blocks[:MAX_BLOCKS]]
    return Message(text=clip(text, 3000), blocks=rendered)


def slack_date(moment: datetime) -> str:
    """A timestamp every reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def tags_text(tags: dict[str, str]) -> str:
    if not tags:
        return "none"
    return ", ".join(f"`{escape(k)}={escape(v)}`" for k, v in sorted(tags.items()))


def mention(slack_id: str) -> str:
    """A user (U…/W…) or user-group (S…) mention."""
    if ids.is_group_id(slack_id):
        return f"<!subteam^{slack_id}>"
    return f"<@{slack_id}>"


def size_text(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size_bytes} B"


def plain(text: str) -> Message:
    """One section of mrkdwn: what `build_message(text, [section_block(text)])` makes, built as the dict itself.
    Most acks are one of these, and slack_sdk's block objects take about 30 us each to build and check."""
    return Message(
        text=clip(text, 3000),
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}],
    )


def chunk_lines(lines: Sequence[str]) -> list[str]:
    """Lines packed into section-sized texts (a section holds at most 3,000 characters)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else clip(line, SECTION_LIMIT)
    if current:
        chunks.append(current)
    return chunks[: MAX_BLOCKS - 1]


def request_failed(reason: str) -> Message:
    return plain(f":x: {reason}")
