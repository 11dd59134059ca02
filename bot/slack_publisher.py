"""The bot's outbound Slack edge: the parent message, its thread, the incident channel.

Slack trouble is logged and reported as `None`/`False`, never raised: a restore's state
must never depend on whether Slack took a message.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs import Job
from bot.render import Message, parent_message

log = logging.getLogger(__name__)


class SlackPublisher:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post_parent(self, job: Job) -> str | None:
        """Post the job's parent message; returns its ts."""
        try:
            response = await self._client.chat_postMessage(
                channel=job.channel_id, unfurl_links=False, **parent_message(job).as_kwargs()
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not post the parent message of job %s: %s", job.id, _describe(exc))
            return None
        ts = response.get("ts")
        return str(ts) if ts else None

    async def update_parent(self, job: Job) -> bool:
        if job.message_ts is None:
            return False
        try:
            await self._client.chat_update(channel=job.channel_id, ts=job.message_ts, **parent_message(job).as_kwargs())
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not update the parent message of job %s: %s", job.id, _describe(exc))
            return False
        return True

    async def reply(self, job: Job, message: Message) -> bool:
        if job.message_ts is None:
            return False
        return await self.post(job.channel_id, message, thread_ts=job.message_ts, job=job)

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None, job: Job | None) -> bool:
        try:
            await self._client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, **message.as_kwargs()
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not post to %s for job %s: %s", channel, job.id if job else "-", _describe(exc))
            return False
        return True

    async def permalink(self, job: Job) -> str | None:
        if job.message_ts is None:
            return None
        try:
            response = await self._client.chat_getPermalink(channel=job.channel_id, message_ts=job.message_ts)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not get a link to the thread of job %s: %s", job.id, _describe(exc))
            return None
        link = response.get("permalink")
        return str(link) if link else None


def _describe(exc: Exception) -> str:
    # SlackApiError's str() includes the whole response, which is fine, but keep it to the error code.
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    return type(exc).__name__
