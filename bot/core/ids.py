"""Every slash command, action, callback and block ID the bot registers, and the shapes of Slack IDs."""

from __future__ import annotations

import re

RESTORE_COMMAND = "/restore-index"

# Approvals: the plan card's buttons (value = job ID) and the decision modals (private_metadata = job ID).
APPROVAL_ACTIONS_BLOCK = "approval_actions"
APPROVE_ACTION = "approve_restore"
DENY_ACTION = "deny_restore"
CANCEL_ACTION = "cancel_restore"
APPROVE_VIEW = "approve_restore_view"
DENY_VIEW = "deny_restore_view"
DECISION_REASON_BLOCK = "decision_reason"
DECISION_REASON_INPUT = "decision_reason_input"

# -- the restore modal (bot/core/render/restore_form_view.py, bot/core/request/restore_form.py) -------
RESTORE_MODAL_CALLBACK = "restore_modal"
MODAL_NOTICE_BLOCK = "restore_modal.notice"
MODAL_BACKUP_BLOCK = "restore_modal.backup"
MODAL_BACKUP_ACTION = "restore_modal.backup.select"  # block_suggestion (options) and block_actions (chosen)
MODAL_BACKUP_INFO_BLOCK = "restore_modal.backup.info"
# The name block's id gets ".<backup_id>" appended when the bot pre-fills a name: Slack keeps what is
# typed in an input whose block_id and action_id stay the same, so a new default needs a new block_id.
MODAL_INDEX_NAME_BLOCK = "restore_modal.index_name"
MODAL_INDEX_NAME_ACTION = "restore_modal.index_name.input"
MODAL_TAGS_BLOCK = "restore_modal.tags"
MODAL_TAGS_ACTION = "restore_modal.tags.input"
MODAL_PROTECTION_BLOCK = "restore_modal.deletion_protection"
MODAL_PROTECTION_ACTION = "restore_modal.deletion_protection.checkbox"
MODAL_PROTECTION_ENABLED = "enabled"  # the checkbox option's value
MODAL_BACKUP_UNAVAILABLE = "pinecone-unavailable"  # the value of the one option shown when listing fails
# The "source index" path: restore the newest Ready backup of an index (before a moment), as `from:` does.
MODAL_MODE_BLOCK = "restore_modal.mode"
MODAL_MODE_ACTION = "restore_modal.mode.radio"  # block_actions: the modal is redrawn for the other path
MODAL_MODE_BACKUP = "backup"  # the radio options' values
MODAL_MODE_SOURCE = "source"
MODAL_SOURCE_BLOCK = "restore_modal.source"
MODAL_SOURCE_ACTION = "restore_modal.source.select"  # block_suggestion (index names) and block_actions (chosen)
MODAL_BEFORE_BLOCK = "restore_modal.before"
MODAL_BEFORE_ACTION = "restore_modal.before.input"  # block_actions on Enter: the backup that would be used
MODAL_CHOICE_BLOCK = "restore_modal.source.choice"  # which backup would be used, and why
MODAL_INDEXES_UNAVAILABLE = "pinecone-indexes-unavailable"

# -- Slack ID shapes: one rule for each kind, used by the settings, the policy and the mentions -----
# D (direct-message) channels are accepted because RESTORE_BOT_ALLOWED_CHANNELS always accepted them:
# the policy equivalent of the simple settings must never reject a deployment that works today.
CHANNEL_ID_RE = re.compile(r"[CGD][A-Z0-9]{8,}")
USER_ID_RE = re.compile(r"[UW][A-Z0-9]{8,}")
GROUP_ID_RE = re.compile(r"S[A-Z0-9]{8,}")


def is_channel_id(value: str) -> bool:
    return CHANNEL_ID_RE.fullmatch(value) is not None


def is_group_id(value: str) -> bool:
    """A user group (S…), as policies and approver lists name them."""
    return GROUP_ID_RE.fullmatch(value) is not None
