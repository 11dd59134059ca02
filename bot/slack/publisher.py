"""The bot's outbound Slack edge: post, update, find and link messages; open, update and publish views.

Every message the bot posts about a job carries Slack message metadata naming the job (and the
notice), so that after a crash between "Slack took it" and "the store knows" the sender can find
it instead of posting it twice. Slack trouble is reported as a `SlackTrouble` value for the
caller to retry later; it is never raised into the job flow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.render import Message

log = logging.getLogger(__name__)

METADATA_EVENT = "restore_bot_message"
# Look this far before a recorded "sending since" when searching for a message that may exist.
SEARCH_MARGIN = timedelta(minutes=2)
_SLACK_ERRORS = (SlackApiError, SlackClientError, OSError, TimeoutError)


@dataclass(frozen=True)
class SlackTrouble:
    error: str


@dataclass(frozen=True)
class Posted:
    ts: str


def metadata(job_id: str, part: str) -> dict[str, Any]:
    """`part` is "parent" or "notice-<id>"."""
    return {"event_type": METADATA_EVENT, "event_payload": {"job_id": job_id, "part": part}}


class SlackPublisher:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(
        self, channel: str, message: Message, *, job_id: str, part: str, thread_ts: str | None = None
    ) -> Posted | SlackTrouble:
        try:
            response = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata=metadata(job_id, part),
                **message.as_kwargs(),
            )
        except _SLACK_ERRORS as exc:
            return _trouble(exc, f"post {part} of job {job_id} to {channel}")
        return Posted(str(response.get("ts") or ""))

    async def update(self, channel: str, ts: str, message: Message, *, job_id: str) -> Posted | SlackTrouble:
        try:
            await self._client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        except _SLACK_ERRORS as exc:
            return _trouble(exc, f"update the parent of job {job_id}")
        return Posted(ts)

    async def post_ephemeral(self, channel: str, user: str, message: Message, *, job_id: str) -> Posted | SlackTrouble:
        try:
            await self._client.chat_postEphemeral(channel=channel, user=user, **message.as_kwargs())
        except _SLACK_ERRORS as exc:
            return _trouble(exc, f"tell {user} about job {job_id}")
        return Posted("")

    async def find(
        self, channel: str, *, job_id: str, part: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | SlackTrouble | None:
        """The bot's own message for (job, part) posted after `since`, if Slack has it."""
        oldest = f"{(since - SEARCH_MARGIN).timestamp():.6f}"
        try:
            if thread_ts is None:
                response = await self._client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200
                )
            else:
                response = await self._client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=200
                )
        except _SLACK_ERRORS as exc:
            return _trouble(exc, f"look for {part} of job {job_id} in {channel}")
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("job_id") == job_id and payload.get("part") == part:
                return Posted(str(message["ts"]))
        return None

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except _SLACK_ERRORS as exc:
            _trouble(exc, f"link to {channel}/{ts}")
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def post_direct(self, user: str, message: Message) -> Posted | SlackTrouble:
        """A direct message from the app to `user`."""
        try:
            response = await self._client.chat_postMessage(channel=user, **message.as_kwargs())
        except _SLACK_ERRORS as exc:
            return _trouble(exc, f"send {user} a direct message")
        return Posted(str(response.get("ts") or ""))

    async def tell(self, channel: str, user: str, message: Message) -> Posted | SlackTrouble:
        """Only to `user`: ephemeral in `channel`, else by direct message if Slack refuses that."""
        result = await self.post_ephemeral(channel, user, message, job_id="-")
        if isinstance(result, Posted):
            return result
        log.warning("could not answer %s in %s: %s; trying a direct message", user, channel, result.error)
        return await self.post_direct(user, message)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> Posted | SlackTrouble:
        """`views.open` (a trigger_id lasts 3 seconds: call right after the ack)."""
        try:
            await self._client.views_open(trigger_id=trigger_id, view=view)
        except _SLACK_ERRORS as exc:
            return _trouble(exc, "open a form")
        return Posted("")

    async def update_view(self, view_id: str, view: dict[str, Any]) -> Posted | SlackTrouble:
        try:
            await self._client.views_update(view_id=view_id, view=view)
        except _SLACK_ERRORS as exc:
            return _trouble(exc, "redraw a form")
        return Posted("")

    async def publish_home(self, user: str, view: dict[str, Any]) -> Posted | SlackTrouble:
        try:
            await self._client.views_publish(user_id=user, view=view)
        except _SLACK_ERRORS as exc:
            return _trouble(exc, f"draw the App Home of {user}")
        return Posted("")


def _trouble(exc: BaseException, what: str) -> SlackTrouble:
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    else:
        error = type(exc).__name__
    log.warning("Slack: could not %s: %s", what, error)
    return SlackTrouble(error)
