"""Where the bot can speak, known before it is needed: checked at start-up, looked up on demand, and
corrected whenever Slack refuses a post.

* At start-up (`survey`) every allowed channel and the incident channel are looked at
  (`conversations.info`); public channels the bot is not in are joined (`conversations.join`), so that
  after a crash the bot can read their history to find a message it may already have posted. A private
  channel it is not in, or an archived one, is logged in one line with the fix.
* A restore asked for in a channel where the bot could post when last looked (within `FRESH_FOR`
  seconds) goes ahead without another look (`known`). Anywhere else the channel is looked at after the
  request is recorded and before Pinecone is called (`reach`), and a channel the bot cannot post in is
  refused there, with the fix. "Cannot post" is never remembered: someone may have invited the bot
  since, so the next request looks again (one `conversations.info` however many ask at once).
* When the Slack sender meets a permanent refusal in a channel (`is_archived`, `channel_not_found`...)
  it says so here (`lost`): the channel is looked at again before the next restore there.

When Slack cannot say (it is down, or the `channels:read` scope is missing), the bot does not guess
"cannot post": the restore goes ahead and the sender copes with whatever Slack then answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from bot.core.channels import ChannelFacts, Reach, lost, problem_line, reach_of
from bot.slack.publisher import NotFound, SlackPublisher, SlackTrouble

log = logging.getLogger(__name__)

FRESH_FOR = 600.0
# The scopes the bot needs (manifest.yml grants them); a token without one is named at start-up.
REQUIRED_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "chat:write.public",
        "channels:read",
        "groups:read",
        "channels:join",
        "channels:history",
        "groups:history",
        "usergroups:read",
        "users:read",
    }
)


class ChannelAccess:
    def __init__(
        self, slack: SlackPublisher, *, fresh_for: float = FRESH_FOR, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._slack = slack
        self._fresh_for = fresh_for
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, Reach]] = {}
        self._looking: dict[str, asyncio.Task[Reach | None]] = {}

    def known(self, channel_id: str) -> Reach | None:
        """The channel, if the bot could post there when last looked, in the last `FRESH_FOR` seconds."""
        entry = self._known.get(channel_id)
        if entry is None or self._monotonic() - entry[0] > self._fresh_for:
            return None
        return entry[1]

    async def reach(self, channel_id: str) -> Reach | None:
        """Whether the bot can post in the channel: known, or asked of Slack (one call however many ask at
        once). None when Slack could not say."""
        known = self.known(channel_id)
        if known is not None:
            return known
        task = self._looking.get(channel_id)
        if task is None:
            task = asyncio.ensure_future(self._look(channel_id))
            self._looking[channel_id] = task
            task.add_done_callback(lambda done: self._finished(done, channel_id))
        return await asyncio.shield(task)

    def lost(self, channel_id: str, error: str) -> None:
        """Slack refused a post in the channel for good: it is looked at again before the next restore there."""
        self._known.pop(channel_id, None)
        log.warning("%s", problem_line(lost(channel_id, error)))

    async def join(self, channel_id: str) -> bool:
        """Join a public channel (so its history can be read); False if Slack refused."""
        joined = await self._slack.join(channel_id)
        if isinstance(joined, SlackTrouble):
            log.warning(
                "channel %s: could not join it (%s); after a restart the bot cannot look up what it posted there%s",
                channel_id,
                joined.error,
                ": add the channels:join scope (reinstall the app from manifest.yml)"
                if joined.error == "missing_scope"
                else "",
            )
            return False
        log.info("channel %s: joined it", channel_id)
        self._remember(Reach(channel_id, can_post=True, member=True))
        return True

    async def survey(self, channel_ids: Iterable[str]) -> list[Reach | None]:
        """Look at each channel, join the public ones the bot is not in, and log one line per problem."""
        await self._check_scopes()
        found = []
        for channel_id in dict.fromkeys(channel_ids):
            facts = await self._slack.channel_info(channel_id)
            public_outside = isinstance(facts, ChannelFacts) and not (
                facts.is_private or facts.is_member or facts.is_archived
            )
            if public_outside and await self.join(channel_id):
                facts = ChannelFacts(is_private=False, is_member=True, is_archived=False)
            reach = self._judge(channel_id, facts)
            if reach is not None and not reach.can_post:
                log.warning("%s", problem_line(reach))
            found.append(reach)
        return found

    async def _check_scopes(self) -> None:
        granted = await self._slack.granted_scopes()
        if isinstance(granted, frozenset):
            missing = sorted(REQUIRED_SCOPES - granted)
            if missing:
                log.warning(
                    "the bot token lacks the scopes %s: reinstall the app from manifest.yml", ", ".join(missing)
                )

    def _finished(self, task: asyncio.Task[Reach | None], channel_id: str) -> None:
        self._looking.pop(channel_id, None)
        if not task.cancelled():
            task.exception()  # retrieved even if every caller was cancelled meanwhile

    async def _look(self, channel_id: str) -> Reach | None:
        return self._judge(channel_id, await self._slack.channel_info(channel_id))

    def _judge(self, channel_id: str, facts: ChannelFacts | NotFound | SlackTrouble) -> Reach | None:
        if isinstance(facts, SlackTrouble):
            log.warning("channel %s: Slack could not say whether the bot can post there (%s)", channel_id, facts.error)
            return None
        reach = reach_of(channel_id, facts if isinstance(facts, ChannelFacts) else None)
        self._remember(reach)
        return reach

    def _remember(self, reach: Reach) -> None:
        if reach.can_post:
            self._known[reach.channel_id] = (self._monotonic(), reach)
        else:  # never remembered: the fix (an invite) may come any moment
            self._known.pop(reach.channel_id, None)
