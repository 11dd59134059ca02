"""Every slash command, action, callback and block ID the bot registers, in one place."""

from __future__ import annotations

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

# -- the restore modal (bot/core/restore_modal.py, handlers/modal.py) --------------------------------------------
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
