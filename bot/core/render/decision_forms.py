"""The approve and deny forms an approver opens from the plan card."""

from __future__ import annotations

from typing import Any

from bot.core import ids
from bot.core.jobs import Job
from bot.core.render.blocks import SECTION_LIMIT, clip, section_block
from bot.core.render.thread_messages import plan_summary


def _decision_view(
    job: Job, *, callback_id: str, title: str, submit: str, reason_label: str, optional: bool
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": job.id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            section_block(clip(plan_summary(job), SECTION_LIMIT)).to_dict(),
            {
                "type": "input",
                "block_id": ids.DECISION_REASON_BLOCK,
                "optional": optional,
                "label": {"type": "plain_text", "text": reason_label},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.DECISION_REASON_INPUT,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def approve_view(job: Job) -> dict[str, Any]:
    """Exactly what will be restored, with an optional reason."""
    return _decision_view(
        job,
        callback_id=ids.APPROVE_VIEW,
        title="Approve restore",
        submit="Approve",
        reason_label="Reason (optional)",
        optional=True,
    )


def deny_view(job: Job) -> dict[str, Any]:
    return _decision_view(
        job, callback_id=ids.DENY_VIEW, title="Deny restore", submit="Deny", reason_label="Why?", optional=False
    )
