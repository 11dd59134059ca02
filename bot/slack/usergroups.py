"""Who is in which Slack user group, for policy checks (usergroups.users.list, cached briefly).

Only the groups a decision depends on are asked about, and one group is asked about once however many
requests want it at the same moment (Slack allows about 20 `usergroups.users.list` calls a minute).

A group that cannot be read is never guessed: what was read less than `TRUST_FOR` seconds ago is used
while Slack is failing, and beyond that `GroupsUnavailable` is raised, so the caller refuses with a clear
message rather than allowing (or refusing) on old or missing facts. A group Slack says does not exist
(`no_such_subteam`) is a fact, not a failure: it has no members.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.errors import SLACK_FAILURES

log = logging.getLogger(__name__)

# An approver's form submission waits for this read before Slack's 3 s are up (and slack_sdk would sleep out
# a 429's Retry-After inside it): past this, the read counts as failed, and a recent read or a clear refusal
# answers instead.
READ_TIMEOUT = 2.0

CACHE_SECONDS = 300.0
# How old a membership read may be and still be used while Slack cannot be asked.
TRUST_FOR = 900.0


class GroupsUnavailable(Exception):
    """The members of `group_id` cannot be read, and what was read before (if anything) is too old."""

    def __init__(self, group_id: str, error: str) -> None:
        super().__init__(f"could not read the members of user group {group_id}: {error}")
        self.group_id = group_id
        self.error = error


class UserGroups:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        trust_for: float = TRUST_FOR,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._trust_for = trust_for
        self._monotonic = monotonic
        # group -> (when it was read, its members)
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._reading: dict[str, asyncio.Task[frozenset[str]]] = {}

    async def groups_of(self, user_id: str, candidates: frozenset[str]) -> frozenset[str]:
        """The groups among `candidates` that `user_id` belongs to. Raises GroupsUnavailable."""
        groups = sorted(candidates)
        members = await asyncio.gather(*(self._members_of(group) for group in groups))
        return frozenset(group for group, users in zip(groups, members, strict=True) if user_id in users)

    async def _members_of(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None and self._monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        task = self._reading.get(group_id)
        if task is None:
            task = asyncio.ensure_future(self._read(group_id))
            self._reading[group_id] = task
            task.add_done_callback(lambda done: self._finished(done, group_id))
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[frozenset[str]], group_id: str) -> None:
        self._reading.pop(group_id, None)
        if not task.cancelled():
            task.exception()  # retrieved even if every caller was cancelled meanwhile

    async def _read(self, group_id: str) -> frozenset[str]:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                response = await self._client.usergroups_users_list(usergroup=group_id)
        except SLACK_FAILURES as exc:
            error = str(exc.response.get("error") or "") if isinstance(exc, SlackApiError) else type(exc).__name__
            if error == "no_such_subteam":  # a fact, not a failure: nobody is in a group that does not exist
                log.warning("user group %s does not exist: it counts as having no members", group_id)
                self._members[group_id] = (self._monotonic(), frozenset())
                return frozenset()
            cached = self._members.get(group_id)
            if cached is not None and self._monotonic() - cached[0] < self._trust_for:
                log.warning("could not read the members of user group %s (%s); using a recent read", group_id, error)
                return cached[1]
            log.warning("could not read the members of user group %s: %s", group_id, error)
            raise GroupsUnavailable(group_id, error or "no answer") from exc
        users = frozenset(str(user) for user in response.get("users") or [])
        self._members[group_id] = (self._monotonic(), users)
        return users
