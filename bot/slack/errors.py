"""Every Slack failure the bot sees, classified once: retry it, drop that one delivery, or the place is lost.

Slack answers `ok: false` with an error code, or an HTTP error, or nothing at all. What the bot should do
next depends only on that, so it is decided here and nowhere else:

* **retry** (transient): rate limits, 5xx, timeouts, dropped connections, Slack's own "try again"
  codes. The caller backs off and tries again, a bounded number of times.
* **drop** (permanent for this one delivery): the message or the payload is the problem
  (`message_not_found`, `cant_update_message`, `invalid_blocks`...). Sending the same thing again can
  never work; other deliveries to the same place still may.
* **lost** (permanent for the place): the bot cannot act there any more (`channel_not_found`,
  `not_in_channel`, `is_archived`, `missing_scope`, `invalid_auth`...). Nothing more is sent there until
  someone fixes it (invites the bot, reinstalls the app).

A code Slack does not document, or that is not listed here, counts as transient: its retries are bounded
anyway, so an unknown code costs a few calls, never an endless loop.
"""

from __future__ import annotations

from enum import StrEnum

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

#: What a slack_sdk call can raise for Slack's sake: an error answer (SlackApiError), no answer (OSError,
#: TimeoutError), and aiohttp's own errors, which slack_sdk's async client lets through unwrapped (a connection
#: closed before the answer came: ServerDisconnectedError, ClientPayloadError are no OSError).
SLACK_FAILURES: tuple[type[BaseException], ...] = (
    SlackApiError,
    SlackClientError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


class Verdict(StrEnum):
    RETRY = "retry"
    DROP = "drop"
    LOST = "lost"


# The place (channel, user, workspace) cannot be used: nothing more is sent there.
LOST_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "missing_scope",
        "not_allowed_token_type",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "ekm_access_denied",
        "access_denied",
        "team_access_not_granted",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "method_not_supported_for_channel_type",
        "channel_type_not_supported",
        "user_not_in_channel",
        "user_not_found",
        "cannot_dm_bot",
        "app_missing_action_url",
    }
)

# This one message or payload can never be delivered as it is; other deliveries may still work.
DROP_ERRORS = frozenset(
    {
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "thread_not_found",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "duplicate_message_not_found",
        "as_user_not_supported",
    }
)

# Slack's own "try again later" codes (also what an HTTP 429 or 5xx carries).
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


# Slack may have done what was asked although no success came back: a post answered this way must be looked
# for before it is sent again. A 429 and every other code mean it was not done.
UNSURE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})

#: Web API methods Slack does not make idempotent: sent twice, they post twice.
NOT_REPEATABLE = frozenset({"chat.postMessage", "chat.postEphemeral"})


def may_have_landed(error: str, *, http_status: int | None = None, answered: bool = True) -> bool:
    """Whether Slack may have acted although it answered `error` (or, `answered=False`, nothing at all)."""
    if not answered:
        return True
    if http_status is not None and http_status >= 500:
        return True
    return error in UNSURE_ERRORS


def classify(error: str, *, http_status: int | None = None) -> Verdict:
    """What to do after Slack answered `error` (a Slack error code, or a name for "no answer").

    `http_status`: an HTTP 429 or 5xx is transient whatever its body says."""
    if http_status is not None and (http_status == 429 or http_status >= 500):
        return Verdict.RETRY
    if error in LOST_ERRORS:
        return Verdict.LOST
    if error in DROP_ERRORS:
        return Verdict.DROP
    return Verdict.RETRY
