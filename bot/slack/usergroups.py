"""Who is in which Slack user group, for policy checks (usergroups.users.list, cached briefly).

Only the groups a policy names are ever asked about. A group that cannot be read counts as having
no members: policy then refuses rather than allows, and the refusal names whom to ask.
"""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


class UserGroups:
    def __init__(self, client: AsyncWebClient, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def groups_of(self, user_id: str, candidates: frozenset[str]) -> frozenset[str]:
        """The groups among `candidates` that `user_id` belongs to."""
        groups = sorted(candidates)
        members = await asyncio.gather(*(self._members_of(group) for group in groups))
        return frozenset(group for group, users in zip(groups, members, strict=True) if user_id in users)

    async def _members_of(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self._client.usergroups_users_list(usergroup=group_id)
        except (SlackApiError, SlackClientError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("could not read the members of user group %s: %s", group_id, error)
            return cached[1] if cached is not None else frozenset()
        users = frozenset(str(user) for user in response.get("users") or [])
        self._members[group_id] = (time.monotonic() + self._cache_seconds, users)
        return users
