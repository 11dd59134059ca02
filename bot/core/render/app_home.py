"""The App Home tab: the approvals waiting for the person who opened it, and their recent restores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject

from bot.core.jobs import Job, JobState
from bot.core.render.blocks import COMMAND, MAX_BLOCKS, context_block, escape, section_block, slack_date
from bot.core.render.thread_messages import backup_ref, choice_line, running_line, state_label


def home_view(mine: Sequence[Job], waiting: Sequence[tuple[Job, str | None]]) -> dict[str, Any]:
    """The App Home tab: the approvals waiting for this person, then their recent restores."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Waiting for your approval"))]
    if waiting:
        for job, link in waiting[:15]:
            open_card = f" <{link}|Open the plan card>" if link else ""
            why = f" ({escape(job.backup_choice)})" if job.backup_choice else ""
            blocks.append(
                section_block(
                    f"`{job.index_name}` from {backup_ref(job)}{why}, asked by <@{job.requester_id}> "
                    f"{slack_date(job.created_at)}.{open_card}"
                )
            )
    else:
        blocks.append(context_block("Nothing is waiting for you."))
    blocks.append(DividerBlock())
    blocks.append(HeaderBlock(text=PlainTextObject(text="Your recent restores")))
    if mine:
        for job in mine[:20]:
            progress = f" · {running_line(job)}" if job.state is JobState.RESTORING else ""
            chosen = choice_line(job)
            blocks.append(
                section_block(
                    f"`{job.index_name}`: {state_label(job)}{progress} · {slack_date(job.created_at)}"
                    + (f"\n{chosen}" if chosen else "")
                )
            )
    else:
        blocks.append(context_block(f"You have not asked for a restore yet. Try `{COMMAND}` in an allowed channel."))
    return {"type": "home", "blocks": [block.to_dict() for block in blocks[:MAX_BLOCKS]]}
