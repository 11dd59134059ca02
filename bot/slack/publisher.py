"""The bot's outbound Slack edge: post, update, find and link messages; open, update and publish views.

Every message the bot posts about a job carries Slack message metadata naming the job (and the
notice), so that after a crash between "Slack took it" and "the store knows" the sender can find
it instead of posting it twice. Slack trouble is reported as a `SlackTrouble` value, classified once
(bot/slack/errors.py) so the caller knows whether to retry later, drop that delivery or stop using the
place; it is never raised into the job flow.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.channels import ChannelFacts
from bot.core.render import Message
from bot.slack.errors import SLACK_FAILURES, Verdict, classify, may_have_landed

log = logging.getLogger(__name__)

METADATA_EVENT = "restore_bot_message"
# Look this far before a recorded "sending since" when searching for a message that may exist.
SEARCH_MARGIN = timedelta(minutes=2)
# Slack pages history by cursor (200 a page is what it recommends); a look-up reads at most this many pages.
SEARCH_PAGE_SIZE = 200
SEARCH_PAGES = 5


@dataclass(frozen=True)
class SlackTrouble:
    error: str
    verdict: Verdict = Verdict.RETRY
    #: Slack may have done it although no success came back (a 5xx, a timeout, a dropped connection):
    #: a post must be looked for before it is sent again.
    unsure: bool = False

    @property
    def transient(self) -> bool:
        return self.verdict is Verdict.RETRY


@dataclass(frozen=True)
class NotFound:
    """Slack says there is no such channel, or one the bot may not see (a private channel it is not in)."""

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
        except SLACK_FAILURES as exc:
            return _trouble(exc, f"post {part} of job {job_id} to {channel}")
        return Posted(str(response.get("ts") or ""))

    async def update(self, channel: str, ts: str, message: Message, *, job_id: str) -> Posted | SlackTrouble:
        try:
            await self._client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        except SLACK_FAILURES as exc:
            return _trouble(exc, f"update the parent of job {job_id}")
        return Posted(ts)

    async def post_ephemeral(self, channel: str, user: str, message: Message, *, job_id: str) -> Posted | SlackTrouble:
        try:
            await self._client.chat_postEphemeral(channel=channel, user=user, **message.as_kwargs())
        except SLACK_FAILURES as exc:
            return _trouble(exc, f"tell {user} about job {job_id}")
        return Posted("")

    async def find(
        self, channel: str, *, job_id: str, part: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | SlackTrouble | None:
        """The bot's own message for (job, part) posted after `since`, if Slack has it."""
        oldest = f"{(since - SEARCH_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(SEARCH_PAGES):
            try:
                if thread_ts is None:
                    response = await self._client.conversations_history(
                        channel=channel, oldest=oldest, include_all_metadata=True, limit=SEARCH_PAGE_SIZE, cursor=cursor
                    )
                else:
                    response = await self._client.conversations_replies(
                        channel=channel,
                        ts=thread_ts,
                        oldest=oldest,
                        include_all_metadata=True,
                        limit=SEARCH_PAGE_SIZE,
                        cursor=cursor,
                    )
            except SLACK_FAILURES as exc:
                return _trouble(exc, f"look for {part} of job {job_id} in {channel}")
            for message in response.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("job_id") == job_id and payload.get("part") == part:
                    return Posted(str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or cursor is None:
                return None  # every message since `oldest` was read: it is not there
        # Not read to the end (a busy channel): not finding it proves nothing, so it is not taken as "not posted".
        log.warning("Slack: could not look for %s of job %s in %s: over %d pages", part, job_id, channel, SEARCH_PAGES)
        return SlackTrouble("lookup_incomplete", Verdict.RETRY, unsure=True)

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SLACK_FAILURES as exc:
            _trouble(exc, f"link to {channel}/{ts}")
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def post_direct(self, user: str, message: Message) -> Posted | SlackTrouble:
        """A direct message from the app to `user`."""
        try:
            response = await self._client.chat_postMessage(channel=user, **message.as_kwargs())
        except SLACK_FAILURES as exc:
            return _trouble(exc, f"send {user} a direct message")
        return Posted(str(response.get("ts") or ""))

    async def tell(
        self, channel: str, user: str, message: Message, *, member: bool | None = None
    ) -> Posted | SlackTrouble:
        """Only to `user`: ephemeral in `channel` where the bot is a member (Slack refuses ephemerals
        elsewhere), else by direct message (the app's Messages tab), also when the ephemeral is refused.

        `member`: whether the bot is in `channel`, if known; False goes straight to the direct message."""
        if member is not False:
            result = await self.post_ephemeral(channel, user, message, job_id="-")
            if isinstance(result, Posted) or result.transient:
                return result
            log.warning("could not answer %s in %s: %s; trying a direct message", user, channel, result.error)
        return await self.post_direct(user, message)

    async def channel_info(self, channel: str) -> ChannelFacts | NotFound | SlackTrouble:
        """`conversations.info`: whether the bot is in the channel, whether it is private or archived."""
        try:
            response = await self._client.conversations_info(channel=channel)
        except SLACK_FAILURES as exc:
            trouble = _trouble(exc, f"look at channel {channel}")
            return NotFound(trouble.error) if trouble.error == "channel_not_found" else trouble
        info = response.get("channel") or {}
        return ChannelFacts(
            is_private=bool(info.get("is_private")),
            is_member=bool(info.get("is_member")),
            is_archived=bool(info.get("is_archived")),
            name=str(info["name"]) if info.get("name") else None,
        )

    async def join(self, channel: str) -> Posted | SlackTrouble:
        """`conversations.join` (public channels only; needs the `channels:join` scope)."""
        return await self._done(self._client.conversations_join(channel=channel), f"join channel {channel}")

    async def granted_scopes(self) -> frozenset[str] | SlackTrouble | None:
        """The scopes the bot token carries, from `auth.test`'s `X-OAuth-Scopes` header (None: not said)."""
        try:
            response = await self._client.auth_test()
        except SLACK_FAILURES as exc:
            return _trouble(exc, "ask Slack which scopes the bot token has")
        return scopes_in(getattr(response, "headers", None))

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> Posted | SlackTrouble:
        """`views.open` (a trigger_id lasts 3 seconds: call right after the ack)."""
        return await self._done(self._client.views_open(trigger_id=trigger_id, view=view), "open a form")

    async def update_view(self, view_id: str, view: dict[str, Any]) -> Posted | SlackTrouble:
        return await self._done(self._client.views_update(view_id=view_id, view=view), "redraw a form")

    async def publish_home(self, user: str, view: dict[str, Any]) -> Posted | SlackTrouble:
        return await self._done(self._client.views_publish(user_id=user, view=view), f"draw the App Home of {user}")

    @staticmethod
    async def _done(call: Awaitable[Any], what: str) -> Posted | SlackTrouble:
        """A call whose answer carries nothing the bot needs: done, or the trouble, classified."""
        try:
            await call
        except SLACK_FAILURES as exc:
            return _trouble(exc, what)
        return Posted("")


def scopes_in(headers: Any) -> frozenset[str] | None:
    """The scopes in Slack's `X-OAuth-Scopes` response header, if it is there."""
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == "x-oauth-scopes":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            return frozenset(part.strip() for part in str(raw).split(",") if part.strip())
    return None


def _trouble(exc: BaseException, what: str) -> SlackTrouble:
    """`exc` as a classified `SlackTrouble` (bot/slack/errors.py), logged once."""
    if isinstance(exc, SlackApiError):
        status = int(getattr(exc.response, "status_code", 200) or 200)
        error = str(exc.response.get("error") or f"http_{status}")
        verdict = classify(error, http_status=status)
        unsure = may_have_landed(error, http_status=status)
    else:
        error = type(exc).__name__
        verdict = Verdict.RETRY  # no answer at all: a timeout or a dropped connection
        unsure = may_have_landed(error, answered=False)
    log.warning("Slack: could not %s: %s (%s)", what, error, verdict.value)
    return SlackTrouble(error, verdict, unsure)
