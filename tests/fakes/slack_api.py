"""A Slack Web API stand-in: enough of https://api.slack.com/methods for the bot, over real HTTP.

The bot runs as a separate process with ``SLACK_API_URL`` pointing at :attr:`SlackStandIn.api_url`,
so everything it sends to Slack lands here, is recorded, and is answered the way Slack would:

* the bearer token is checked (``invalid_auth`` / ``not_authed``), and it carries only the scopes
  ``manifest.yml`` grants (or those given): a method whose scope is missing answers ``missing_scope``;
  every answer says which scopes the token has (``X-OAuth-Scopes``), as Slack's do;
* channels are public or private, the bot is a member or not, a channel may be archived, and each
  method answers as Slack documents for a bot token (strict by default: a channel the test did not
  add does not exist):

  - ``chat.postMessage`` reaches a public channel the bot is not in only with ``chat:write.public``
    (else ``not_in_channel``), never a private one (``channel_not_found``: a private channel the bot
    is not in is invisible to it); a direct message (a user ID) needs the app's Messages tab;
  - ``chat.postEphemeral``, ``conversations.history`` and ``conversations.replies`` need membership
    (``not_in_channel``);
  - ``conversations.join`` works for public channels, with ``channels:join``;
  - an archived channel answers ``is_archived`` to posts, updates and joins;
  - history returns what the bot posted, with its metadata when asked (``include_all_metadata``);
* form-encoded and JSON bodies are both accepted, as slack_sdk uses both (and GET query strings
  for read methods); ``blocks``/``attachments``/``view`` sent as JSON strings are decoded;
* Block Kit limits are enforced (``invalid_blocks``), because exceeding them is a classic
  production-only failure; messages over 40,000 characters get ``msg_too_long``;
* posted messages are kept, including edits, so tests can assert what a channel *looks like*;
* ``response_url`` endpoints (:meth:`SlackStandIn.new_response_url`) record what the bot sends
  to interactive responses;
* faults (rate limiting, 5xx, ``ok: false``) can be injected per method;
* optionally (``rate_limits=True`` or :meth:`SlackStandIn.enable_rate_limits`), Slack's documented rate
  limits are enforced with token buckets, answering ``429`` ``ratelimited`` with ``Retry-After`` the way
  Slack does, and counted per method in :attr:`SlackStandIn.rate_limited`.  Off by default.

Tests await conditions with :meth:`SlackStandIn.wait_for` instead of sleeping::

    async with SlackStandIn(bot_token="xoxb-test-token") as slack:
        ...  # start the bot with SLACK_API_URL=slack.api_url
        msg = await slack.wait_for(lambda: slack.messages_in("C0OPS"))
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import fnmatch
import hashlib
import itertools
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from aiohttp import web

from tests.fakes._support import ChangeNotifier, LoopbackServer
from tests.fakes.slack_blocks import validate_blocks, validate_view

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "MANIFEST",
    "MAX_TEXT_LENGTH",
    "PER_CHANNEL",
    "RateLimit",
    "SlackCall",
    "SlackFault",
    "SlackRateLimiter",
    "SlackStandIn",
    "TokenBucket",
]

T = TypeVar("T")
JSON = dict[str, Any]

#: Slack truncates/rejects message text longer than this (``msg_too_long``).
MAX_TEXT_LENGTH = 40_000
#: Slack accepts at most this many posts to one response_url.
MAX_RESPONSE_URL_USES = 5

# Arguments that slack_sdk (or a hand-rolled client) may send as JSON-encoded strings in a form.
_JSON_ARGS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}
_NO_TEXT_FALLBACK = "This content can't be displayed."

#: The app manifest the bot ships: the stand-in grants the bot token exactly its scopes.
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

#: The scope each method needs from a bot token, whatever the channel (https://docs.slack.dev/reference/methods).
_METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.join": "channels:join",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
}
#: Conversations methods need the scope of the kind of conversation: public, private, direct message.
_CONVERSATION_SCOPES = {
    "conversations.info": ("channels:read", "groups:read", "im:read"),
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
}


@cache
def manifest_grants(path: Path = MANIFEST) -> tuple[frozenset[str], bool]:
    """The bot scopes a manifest asks for, and whether it enables the app's Messages tab."""
    manifest = yaml.safe_load(path.read_text())
    scopes = frozenset(str(scope) for scope in manifest["oauth_config"]["scopes"]["bot"])
    messages_tab = bool(manifest["features"].get("app_home", {}).get("messages_tab_enabled", False))
    return scopes, messages_tab


@dataclass(frozen=True)
class RateLimit:
    """A token bucket's shape: up to ``capacity`` calls at once, refilled at ``per_minute`` calls a minute."""

    capacity: float
    per_minute: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.per_minute <= 0:
            raise ValueError(f"a rate limit needs capacity >= 1 and a positive refill rate, not {self}")


#: Suffix of a limit key that applies per channel (e.g. "chat.postMessage" + PER_CHANNEL) instead of
#: per workspace; both apply when both are given.
PER_CHANNEL = ":channel"

#: Slack's documented limits (https://docs.slack.dev/apis/web-api/rate-limits), per method and workspace,
#: as token buckets.  The tiers say "50+ per minute" and so on: these are the floors, with a burst of one
#: minute's worth.  Methods not listed are not limited.
DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {
        # Special tier: "1 per second per channel, short bursts allowed", and a workspace-wide limit of
        # "several hundred per minute".
        "chat.postMessage" + PER_CHANNEL: RateLimit(capacity=10, per_minute=60),
        "chat.postMessage": RateLimit(capacity=300, per_minute=300),
        # Tier 3: 50+ per minute.
        "chat.update": RateLimit(capacity=50, per_minute=50),
        "conversations.history": RateLimit(capacity=50, per_minute=50),
        "conversations.replies": RateLimit(capacity=50, per_minute=50),
        "conversations.info": RateLimit(capacity=50, per_minute=50),
        "conversations.join": RateLimit(capacity=50, per_minute=50),
        # Tier 4: 100+ per minute.
        "chat.getPermalink": RateLimit(capacity=100, per_minute=100),
        "chat.postEphemeral": RateLimit(capacity=100, per_minute=100),
        "users.info": RateLimit(capacity=100, per_minute=100),
        "views.open": RateLimit(capacity=100, per_minute=100),
        "views.update": RateLimit(capacity=100, per_minute=100),
        "views.publish": RateLimit(capacity=100, per_minute=100),
        # Tier 2: 20+ per minute.
        "usergroups.users.list": RateLimit(capacity=20, per_minute=20),
    }
)


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``per_minute / 60`` a second; a call takes one.

    Time comes from ``clock`` (seconds, monotonic), so tests can move it instead of sleeping.
    Written apart from the bot's own pacing buckets (bot/slack/pacing.py) on purpose: the stand-in
    referees the bot's pacing, so a bug shared by both would go unseen.
    """

    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self.capacity = float(limit.capacity)
        self.per_second = limit.per_minute / 60.0
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    @property
    def tokens(self) -> float:
        """Tokens available now (fractional while refilling)."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._updated) * self.per_second)
        self._updated = now
        return self._tokens

    def wait(self) -> float:
        """Seconds until one token is available (0.0: one is available now)."""
        missing = 1.0 - self.tokens
        return 0.0 if missing <= 0 else missing / self.per_second

    def take(self) -> None:
        """Use one token; call only after :meth:`wait` returned 0.0."""
        self._tokens -= 1.0


class SlackRateLimiter:
    """Token buckets per method (and per channel where the limit says so), as Slack applies them per app
    per workspace.  A call is admitted only if every bucket it falls under has a token; a refused call
    takes none."""

    def __init__(self, limits: Mapping[str, RateLimit], clock: Callable[[], float]) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._buckets: dict[tuple[str, str | None], TokenBucket] = {}

    def _bucket(self, key: str, channel: str | None) -> TokenBucket:
        bucket = self._buckets.get((key, channel))
        if bucket is None:
            bucket = self._buckets[(key, channel)] = TokenBucket(self.limits[key], self._clock)
        return bucket

    def admit(self, method: str, channel: str | None) -> float | None:
        """``None`` if the call may go ahead (its tokens are taken), else the seconds until it could."""
        buckets: list[TokenBucket] = []
        if method in self.limits:
            buckets.append(self._bucket(method, None))
        per_channel = method + PER_CHANNEL
        if per_channel in self.limits and channel:
            buckets.append(self._bucket(per_channel, channel))
        wait = max((bucket.wait() for bucket in buckets), default=0.0)
        if wait > 0:
            return wait
        for bucket in buckets:
            bucket.take()
        return None


@dataclass
class SlackCall:
    """One request the stand-in received (recorded before auth checks and faults)."""

    #: Web API method (e.g. "chat.postMessage"), or "response_url" for response_url posts.
    method: str
    #: Decoded arguments (query + form/JSON body; JSON-string ``blocks`` etc. parsed; token removed).
    args: dict[str, Any]
    #: ``time.monotonic()`` at arrival.
    time: float
    #: The JSON answered (None until answered).
    response: dict[str, Any] | None = None
    http_status: int = 200
    #: For response_url posts: the id of the URL (see :meth:`SlackStandIn.new_response_url`).
    response_url_id: str | None = None
    #: True when the stand-in's rate limiter (not an injected fault) answered it with 429.
    rate_limited: bool = False

    @property
    def ok(self) -> bool:
        """True when the stand-in answered HTTP 200 with ``ok: true``."""
        return self.http_status == 200 and bool(self.response and self.response.get("ok"))


@dataclass
class SlackFault:
    """An injected failure; see :meth:`SlackStandIn.inject`."""

    method: str
    status: int
    times: int
    retry_after: int | None = None
    error: str | None = None
    delay: float = 0.0
    hits: int = 0
    #: Apply the call for real first (e.g. store the message), then answer with the fault:
    #: Slack took it but the answer was lost.
    then_process: bool = False
    #: Close the connection without any answer (after applying the call only if ``then_process``), as a
    #: proxy or Slack's edge resetting it does; slack_sdk then raises aiohttp's own error, unwrapped.
    drop_connection: bool = False

    @property
    def exhausted(self) -> bool:
        """True once the fault has been applied ``times`` times."""
        return self.hits >= self.times


@dataclass
class _User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    #: An IANA zone, as Slack gives it (None: Slack gives no zone for this user, as for some bots).
    tz: str | None = "UTC"


def _zone_fields(tz: str | None) -> JSON:
    """`tz`, `tz_label` and `tz_offset` as users.info gives them (the label and offset as they are now)."""
    if tz is None:
        return {}
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return {"tz": tz, "tz_label": tz, "tz_offset": 0}
    now = datetime.now(zone)
    offset = now.utcoffset()
    return {
        "tz": tz,
        "tz_label": now.tzname() or tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
    }


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False


@dataclass
class _Message:
    channel: str
    ts: str
    versions: list[JSON] = field(default_factory=list)


class SlackStandIn(LoopbackServer):
    """In-process Slack Web API served over loopback HTTP, recording everything the bot sends."""

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        *,
        app_token: str = "xapp-test-token",
        team_id: str = "T0TEST",
        team_name: str = "Test Team",
        team_domain: str = "example",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        bot_name: str = "restore-bot",
        app_id: str = "A0BOT",
        strict_lookups: bool = True,
        scopes: Iterable[str] | None = None,
        messages_tab: bool | None = None,
        rate_limits: bool | Mapping[str, RateLimit | None] = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``strict_lookups`` (the default): unknown channels/users are ``*_not_found``; False synthesises
        them (a public channel the bot is in).

        ``scopes`` / ``messages_tab``: what the bot token is granted and whether the app's Messages tab is
        on; by default as ``manifest.yml`` says.

        ``rate_limits``: enforce Slack's rate limits (see :meth:`enable_rate_limits`; a mapping overrides
        :data:`DEFAULT_RATE_LIMITS`); ``clock`` is the rate limiter's time source, in seconds.
        """
        super().__init__()
        self.bot_token = bot_token
        self.app_token = app_token
        #: Socket Mode: what the bot sent back over the websocket (acks with their payloads), in order.
        self.socket_acks: list[JSON] = []
        self._sockets: list[web.WebSocketResponse] = []
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.strict_lookups = strict_lookups
        manifest_scopes, manifest_tab = manifest_grants()
        #: The scopes the bot token carries (see :meth:`revoke_scope`).
        self.scopes: set[str] = set(manifest_scopes if scopes is None else scopes)
        #: Whether the app's Messages tab is on: direct messages from the bot need it.
        self.messages_tab = manifest_tab if messages_tab is None else messages_tab
        #: Every call received, in arrival order.
        self.calls: list[SlackCall] = []
        #: Best-practice problems that Slack tolerates (e.g. blocks without a ``text`` fallback).
        self.warnings: list[str] = []
        #: response_url id -> payloads accepted on it, in order.
        self.responses: dict[str, list[JSON]] = {}
        #: Ephemeral messages (chat.postEphemeral), in order.
        self.ephemerals: list[JSON] = []
        self._faults: list[SlackFault] = []
        #: Calls the rate limiter answered with 429, per method (see :meth:`enable_rate_limits`).
        self.rate_limited: Counter[str] = Counter()
        self._clock = clock
        self._rate_limiter: SlackRateLimiter | None = None
        if rate_limits is not False:
            self.enable_rate_limits(None if rate_limits is True else rate_limits)
        self._messages: dict[tuple[str, str], _Message] = {}
        self._views: dict[str, JSON] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id of their App Home
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._last_ts_micros = 0
        self._ids = itertools.count(1)
        self._notifier = ChangeNotifier(self._describe_recent)
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    @property
    def api_url(self) -> str:
        """What to give the bot as ``SLACK_API_URL`` (slack_sdk's ``base_url``): ends with "/api/"."""
        return f"{self.base_url}/api/"

    # =====================================================================================
    # Test-facing API: configuration
    # =====================================================================================

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str | None = "UTC",
    ) -> None:
        """Register a user returned by ``users.info``, with their time zone (``tz``, an IANA name; Slack adds
        ``tz_label`` and ``tz_offset``, the offset now; None: Slack gives no zone)."""
        name = name or user_id.lower()
        self._users[user_id] = _User(
            user_id, name, real_name or name.title(), email, is_admin, is_owner, is_bot, deleted, tz
        )

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_private: bool = False,
        is_member: bool = True,
        is_archived: bool = False,
    ) -> None:
        """Create a channel: public or private, with the bot in it or not, archived or not."""
        self._channels[channel_id] = _Channel(
            channel_id, name or f"channel-{channel_id.lower()}", is_private, is_member, is_archived
        )

    def has_channel(self, channel_id: str) -> bool:
        return channel_id in self._channels

    def archive_channel(self, channel_id: str) -> None:
        """Someone archives the channel: it takes nothing more (``is_archived``)."""
        self._channels[channel_id].is_archived = True

    def remove_bot(self, channel_id: str) -> None:
        """Someone removes the bot from the channel (``/kick @restore-bot``)."""
        self._channels[channel_id].is_member = False

    def invite_bot(self, channel_id: str) -> None:
        """Someone invites the bot (``/invite @restore-bot``)."""
        self._channels[channel_id].is_member = True

    def is_member(self, channel_id: str) -> bool:
        return self._channels[channel_id].is_member

    def revoke_scope(self, *scopes: str) -> None:
        """The app is reinstalled without these scopes: methods needing them answer ``missing_scope``."""
        self.scopes.difference_update(scopes)

    def grant_scope(self, *scopes: str) -> None:
        self.scopes.update(scopes)

    def someone_posts(self, channel_id: str, text: str, *, user: str = "U0SOMEONE") -> str:
        """A person posts in the channel (no metadata): a busy channel's history. Returns the message's ts."""
        ts = self._next_ts()
        self._messages[(channel_id, ts)] = _Message(
            channel_id, ts, [{"type": "message", "user": user, "text": text, "ts": ts, "channel": channel_id}]
        )
        return ts

    def set_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        """Define the members ``usergroups.users.list`` returns for ``group_id``."""
        self._usergroups[group_id] = list(user_ids)

    def new_response_url(self) -> str:
        """A fresh response_url (as in an interaction payload); posts to it land in ``responses``."""
        url_id = f"R{next(self._ids):08d}"
        self.responses[url_id] = []
        return f"{self.base_url}/response/{url_id}"

    def inject(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
        delay: float = 0.0,
        then_process: bool = False,
        drop_connection: bool = False,
    ) -> SlackFault:
        """Make the next ``times`` calls of ``method`` (fnmatch, e.g. "chat.*", "response_url") fail.

        * ``status=429``: ``{"ok": false, "error": "ratelimited"}`` plus ``Retry-After`` when given
          (slack_sdk's rate-limit retry handler waits that many seconds, plus up to one of jitter).
        * ``status`` 5xx: an error body with that status, as during a Slack incident.
        * ``status=200``: ``{"ok": false, "error": error}``, i.e. a Slack API error.

        The call is recorded but not applied (no message is stored), unless ``then_process``: then
        it is applied first and its answer is replaced by the fault.  ``delay`` slows the answer.
        ``drop_connection``: no answer at all, the connection closed (``status`` is then irrelevant).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status == 200 and error is None:
            raise ValueError("an ok=false fault with HTTP 200 needs an error code, e.g. error='channel_not_found'")
        fault = SlackFault(
            method, status, times, retry_after, error, delay, then_process=then_process, drop_connection=drop_connection
        )
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget all injected faults, used or not."""
        self._faults.clear()

    def enable_rate_limits(
        self, overrides: Mapping[str, RateLimit | None] | None = None, *, clock: Callable[[], float] | None = None
    ) -> None:
        """Answer calls beyond Slack's rate limits with HTTP 429 ``{"ok": false, "error": "ratelimited"}``.

        Limits are :data:`DEFAULT_RATE_LIMITS` with ``overrides`` applied (a ``None`` value removes
        one); a key ending in :data:`PER_CHANNEL` is a bucket per channel.  ``Retry-After`` says, in
        whole seconds rounded up, when the call could succeed.  A refused call is recorded (with
        ``rate_limited=True``), counted in :attr:`rate_limited` and not applied.  Buckets start full;
        calling this again starts them afresh.  ``clock`` replaces the time source given at construction.
        """
        limits: dict[str, RateLimit] = dict(DEFAULT_RATE_LIMITS)
        for key, limit in (overrides or {}).items():
            if limit is None:
                limits.pop(key, None)
            else:
                limits[key] = limit
        if clock is not None:
            self._clock = clock
        self._rate_limiter = SlackRateLimiter(limits, self._clock)

    def disable_rate_limits(self) -> None:
        """Stop enforcing rate limits (the default); :attr:`rate_limited` keeps its counts."""
        self._rate_limiter = None

    @property
    def rate_limits(self) -> Mapping[str, RateLimit]:
        """The limits being enforced (empty when off)."""
        return MappingProxyType(self._rate_limiter.limits if self._rate_limiter is not None else {})

    # =====================================================================================
    # Test-facing API: inspection
    # =====================================================================================

    def calls_to(self, method: str) -> list[SlackCall]:
        """Recorded calls of ``method`` (fnmatch pattern), successful or not."""
        return [c for c in self.calls if fnmatch.fnmatchcase(c.method, method)]

    def messages_in(self, channel: str) -> list[JSON]:
        """Current state of every message the bot posted in ``channel`` (incl. thread replies), oldest first.

        A user id (``U...``) addresses the bot's DM with that user, as in ``chat.postMessage``.
        """
        channel = self._dm_channel(channel)
        return [copy.deepcopy(m.versions[-1]) for (ch, _), m in self._messages.items() if ch == channel]

    def thread(self, channel: str, ts: str) -> list[JSON]:
        """Current state of the bot's replies in the thread rooted at ``ts``, oldest first."""
        return [m for m in self.messages_in(channel) if m.get("thread_ts") == ts and m["ts"] != ts]

    def message(self, channel: str, ts: str) -> JSON:
        """Current state (after any chat.update) of the message ``ts`` in ``channel``."""
        found = self._messages.get((self._dm_channel(channel), ts))
        if found is None:
            known = [f"{ch}/{t}" for ch, t in self._messages]
            raise KeyError(f"no message {ts} in {channel}; known messages: {known}")
        return copy.deepcopy(found.versions[-1])

    def message_history(self, channel: str, ts: str) -> list[JSON]:
        """Every version of message ``ts``: as posted, then after each chat.update."""
        self.message(channel, ts)  # raises a helpful KeyError if unknown
        return copy.deepcopy(self._messages[(self._dm_channel(channel), ts)].versions)

    def view(self, view_id: str) -> JSON:
        """Current state of a view opened, pushed or published by the bot."""
        return copy.deepcopy(self._views[view_id])

    @property
    def views(self) -> list[JSON]:
        """Current state of every view, in creation order."""
        return [copy.deepcopy(v) for v in self._views.values()]

    async def wait_for(self, predicate: Callable[[], T | bool | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109 - a deadline for the condition, not for I/O
        """Await the first truthy ``predicate()``, re-checked whenever a call is recorded or answered.

        Raises ``AssertionError`` with a dump of the recent calls on timeout.
        """
        return await self._notifier.wait_for(predicate, timeout)

    # =====================================================================================
    # HTTP plumbing
    # =====================================================================================

    def _build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/response/{url_id}", self._handle_response_url)
        app.router.add_get("/socket-mode", self._handle_socket)
        app.on_shutdown.append(self._close_sockets)
        return app

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args, token, decode_error = await self._decode_args(request)
        call = SlackCall(method=method, args=args, time=time.monotonic())
        self.calls.append(call)
        fault = self._take_fault(method)  # before any await: faults are consumed in arrival order
        retry_after = None
        if fault is None and self._rate_limiter is not None:  # tokens are taken in arrival order too
            channel = args.get("channel")
            retry_after = self._rate_limiter.admit(method, self._dm_channel(str(channel)) if channel else None)
        await self._notifier.notify()
        if retry_after is not None:
            call.rate_limited = True
            self.rate_limited[method] += 1
            headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
            return await self._answer(call, 429, {"ok": False, "error": "ratelimited"}, headers)
        if fault is not None and not fault.then_process:
            return await self._answer_fault(request, call, fault)
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ").strip()
        if not token:
            body = {"ok": False, "error": "not_authed"}
        elif method == "apps.connections.open":
            # The one method called with the app-level token (xapp-), as Socket Mode needs.
            ok = token == self.app_token
            body = {"ok": True, "url": self._socket_url()} if ok else {"ok": False, "error": "invalid_auth"}
        elif token != self.bot_token:
            body = {"ok": False, "error": "invalid_auth"}
        elif decode_error is not None:
            body = {"ok": False, "error": decode_error}
        elif (handler := self._methods.get(method)) is None:
            body = {"ok": False, "error": "unknown_method", "req_method": method}
        elif method in _METHOD_SCOPES and _METHOD_SCOPES[method] not in self.scopes:
            body = self._missing_scope(_METHOD_SCOPES[method])
        else:
            body = handler(args)
        if fault is not None:
            return await self._answer_fault(request, call, fault)
        granted = {"X-OAuth-Scopes": ",".join(sorted(self.scopes))} if token == self.bot_token else None
        return await self._answer(call, 200, body, granted)

    # -- Socket Mode --------------------------------------------------------------------------

    def _socket_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + "/socket-mode"

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def send_envelope(self, kind: str, payload: JSON) -> str:
        """Deliver a Socket Mode envelope (e.g. kind "slash_commands") to the connected bot; returns its id."""
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise AssertionError("no Socket Mode connection is open")
        envelope_id = f"env-{next(self._ids)}"
        await live[-1].send_json(
            {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        )
        return envelope_id

    def socket_ack(self, envelope_id: str) -> JSON | None:
        return next((ack for ack in self.socket_acks if ack.get("envelope_id") == envelope_id), None)

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "stand-in", "approximate_connection_time": 3600},
                "connection_info": {"app_id": self.app_id},
            }
        )
        await self._notifier.notify()
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                await self._notifier.notify()
        await self._notifier.notify()
        return ws

    async def _close_sockets(self, _: web.Application) -> None:
        for ws in self._sockets:
            await ws.close()

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        url_id = request.match_info["url_id"]
        args, _, decode_error = await self._decode_args(request)
        if "payload" in args and isinstance(args["payload"], str):  # form-encoded webhook style
            try:
                args = json.loads(args["payload"])
            except ValueError:
                decode_error = "invalid_payload"
        call = SlackCall(method="response_url", args=args, time=time.monotonic(), response_url_id=url_id)
        self.calls.append(call)
        fault = self._take_fault("response_url")
        await self._notifier.notify()
        if fault is not None:
            return await self._answer_fault(request, call, fault)
        if url_id not in self.responses:
            return await self._answer(call, 404, {"ok": False, "error": "expired_url"})
        if decode_error is not None:
            return await self._answer(call, 400, {"ok": False, "error": decode_error})
        problem = self._message_problem(args, "response_url", require_content=not args.get("delete_original"))
        if problem is not None:
            return await self._answer(call, 400, problem)
        if len(self.responses[url_id]) >= MAX_RESPONSE_URL_USES:
            self.warnings.append(
                f"response_url {url_id} used more than {MAX_RESPONSE_URL_USES} times; Slack would reject it"
            )
        self.responses[url_id].append(copy.deepcopy(args))
        return await self._answer(call, 200, {"ok": True})

    async def _decode_args(self, request: web.Request) -> tuple[JSON, str | None, str | None]:
        """Merge query, form and JSON arguments; returns ``(args, token_arg, decode_error)``."""
        args: JSON = dict(request.query)
        decode_error: str | None = None
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    body, decode_error = {}, "invalid_json"
                if isinstance(body, dict):
                    args.update(body)
                else:
                    decode_error = "invalid_json"
            elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                form = await request.post()
                for key, value in form.items():
                    args[key] = value if isinstance(value, str) else f"<file {getattr(value, 'filename', '?')}>"
            else:
                decode_error = "invalid_form_data"
        for key, error in _JSON_ARGS.items():
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    decode_error = decode_error or error
        token = args.pop("token", None)
        return args, token if isinstance(token, str) else None, decode_error

    def _take_fault(self, method: str) -> SlackFault | None:
        for fault in self._faults:
            if not fault.exhausted and fnmatch.fnmatchcase(method, fault.method):
                fault.hits += 1
                return fault
        return None

    async def _answer_fault(self, request: web.Request, call: SlackCall, fault: SlackFault) -> web.StreamResponse:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop_connection:
            await self._notifier.notify()
            if request.transport is not None:
                request.transport.close()
            # aiohttp treats a cancelled handler as a lost connection and sends nothing.
            raise asyncio.CancelledError
        if fault.status == 429:
            error = fault.error or "ratelimited"
        elif fault.status >= 500:
            error = fault.error or ("service_unavailable" if fault.status == 503 else "internal_error")
        else:
            error = fault.error or "fatal_error"
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return await self._answer(call, fault.status, {"ok": False, "error": error}, headers)

    async def _answer(
        self, call: SlackCall, status: int, body: JSON, headers: dict[str, str] | None = None
    ) -> web.StreamResponse:
        call.http_status, call.response = status, body
        await self._notifier.notify()
        return web.json_response(body, status=status, headers=headers)

    def _describe_recent(self) -> str:
        lines = [f"  calls received: {len(self.calls)}; the last ones:"]
        for c in self.calls[-25:]:
            summary: dict[str, Any] = {k: c.args[k] for k in ("channel", "ts", "thread_ts", "user") if k in c.args}
            text = c.args.get("text")
            if isinstance(text, str):
                summary["text"] = text if len(text) <= 80 else text[:77] + "..."
            if "blocks" in c.args:
                summary["blocks"] = f"<{len(c.args['blocks']) if isinstance(c.args['blocks'], list) else '?'}>"
            answer = "(in flight)" if c.response is None else c.response.get("error", "ok")
            lines.append(f"    {c.method} {summary} -> HTTP {c.http_status} {answer}")
        if self.warnings:
            lines.append(f"  warnings: {self.warnings[-5:]}")
        if self.rate_limited:
            lines.append(f"  answered 429 by the rate limiter: {dict(self.rate_limited)}")
        return "\n".join(lines)

    # =====================================================================================
    # Helpers
    # =====================================================================================

    def _next_ts(self) -> str:
        """Slack timestamps: the wall-clock time in microseconds, strictly increasing, as Slack's are."""
        micros = max(time.time_ns() // 1000, self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @staticmethod
    def _dm_channel(channel: str) -> str:
        """Posting to a user id opens (and answers with) the bot's DM channel with that user."""
        if channel[:1] in {"U", "W"}:
            return "D" + channel[1:]
        return channel

    @staticmethod
    def _is_dm(channel: str) -> bool:
        return channel[:1] in {"U", "W", "D"}

    def _missing_scope(self, needed: str) -> JSON:
        return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.scopes))}

    def _visible(self, channel_id: str) -> _Channel | None:
        """The channel as the bot token sees it: a private channel the bot is not in does not exist for it."""
        channel = self._channels.get(channel_id)
        if channel is None and not self.strict_lookups:
            channel = self._channels[channel_id] = _Channel(channel_id, f"channel-{channel_id.lower()}")
        if channel is None or (channel.is_private and not channel.is_member):
            return None
        return channel

    def _conversation_scope(self, method: str, channel: _Channel | None) -> JSON | None:
        """``missing_scope`` if the token lacks the scope for this kind of conversation."""
        public, private, direct = _CONVERSATION_SCOPES[method]
        needed = direct if channel is None else private if channel.is_private else public
        return None if needed in self.scopes else self._missing_scope(needed)

    def _message_problem(self, args: JSON, method: str, *, require_content: bool = True) -> JSON | None:
        """Common checks of message payloads; returns an error body or None."""
        text = args.get("text")
        has_content = any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text"))
        if require_content and not has_content:
            return {"ok": False, "error": "no_text"}
        if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
            return {"ok": False, "error": "msg_too_long"}
        if "blocks" in args:
            errors = validate_blocks(args["blocks"])
            if errors:
                return {
                    "ok": False,
                    "error": "invalid_blocks",
                    "errors": errors,
                    "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                }
            if args["blocks"] and not (isinstance(text, str) and text.strip()):
                self.warnings.append(f"{method}: blocks sent without a top-level `text` fallback")
        return None

    def _message_object(self, args: JSON, ts: str) -> JSON:
        text = args.get("text") or args.get("markdown_text") or ""
        message: JSON = {
            "type": "message",
            "subtype": "bot_message",
            "text": text if text or not args.get("blocks") else _NO_TEXT_FALLBACK,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key) is not None:
                message[key] = copy.deepcopy(args[key])
        if "thread_ts" in message and args.get("reply_broadcast") in (True, "true", "1"):
            message["subtype"] = "thread_broadcast"
        return message

    @staticmethod
    def _missing(args: JSON, *names: str) -> JSON | None:
        missing = [n for n in names if not args.get(n)]
        if not missing:
            return None
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": [f"[ERROR] missing required field: {n}" for n in missing]},
        }

    def _channel_info(self, channel_id: str) -> JSON | None:
        channel = self._channels.get(channel_id)
        if channel is None:
            if self.strict_lookups:
                return None
            channel = _Channel(channel_id, f"channel-{channel_id.lower()}")
        is_im = channel_id.startswith("D")
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private and not is_im,
            "is_group": channel.is_private,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": channel.is_private or is_im,
            "is_archived": channel.is_archived,
            "is_general": False,
            "is_member": channel.is_member,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "created": 1_700_000_000,
            "creator": "U0ADMIN",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _user_info(self, user_id: str) -> JSON | None:
        user = self._users.get(user_id)
        if user is None:
            if self.strict_lookups:
                return None
            user = _User(user_id, user_id.lower(), user_id.lower().title())
        profile: JSON = {"real_name": user.real_name, "display_name": user.name, "team": self.team_id}
        if user.email is not None:
            profile["email"] = user.email
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "real_name": user.real_name,
            "deleted": user.deleted,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            **_zone_fields(user.tz),
            "updated": 1_700_000_000,
            "profile": profile,
        }

    # =====================================================================================
    # Web API methods (https://api.slack.com/methods/<name>)
    # =====================================================================================

    def _auth_test(self, args: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JSON) -> JSON:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        channel = self._dm_channel(str(args["channel"]))
        if self._is_dm(channel):
            if not self.messages_tab:  # the app's Messages tab is off: there is no DM to post in
                return {"ok": False, "error": "channel_not_found"}
        else:
            found = self._visible(channel)
            if found is None:
                return {"ok": False, "error": "channel_not_found"}
            if found.is_archived:
                return {"ok": False, "error": "is_archived"}
            if not found.is_member and "chat:write.public" not in self.scopes:
                return {"ok": False, "error": "not_in_channel"}
        problem = self._message_problem(args, "chat.postMessage")
        if problem is not None:
            return problem
        ts = self._next_ts()
        message = self._message_object(args, ts)
        self._messages[(channel, ts)] = _Message(channel, ts, [{**message, "channel": channel}])
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _history_view(self, message: JSON, args: JSON) -> JSON:
        shown = copy.deepcopy(message)
        shown.pop("channel", None)
        if str(args.get("include_all_metadata", "")).lower() not in ("true", "1"):
            shown.pop("metadata", None)  # Slack returns metadata only when asked
        return shown

    def _history_problem(self, method: str, channel: str) -> JSON | None:
        """Reading a conversation needs its scope and, for a channel, membership (``not_in_channel``)."""
        if self._is_dm(channel):
            return self._conversation_scope(method, None)
        found = self._visible(channel)
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = self._conversation_scope(method, found)
        if problem is not None:
            return problem
        return None if found.is_member else {"ok": False, "error": "not_in_channel"}

    def _conversations_history(self, args: JSON) -> JSON:
        """Top-level messages, newest first, after ``oldest`` and before ``latest`` (both exclusive), ``limit`` a
        page (100 unless asked; at most 999), the rest behind ``response_metadata.next_cursor``."""
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        channel = self._dm_channel(str(args["channel"]))
        problem = self._history_problem("conversations.history", channel)
        if problem is not None:
            return problem
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or math.inf)
        try:
            after = self._read_cursor(args.get("cursor"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        found = [
            m.versions[-1]
            for (ch, ts), m in self._messages.items()
            if ch == channel
            and oldest < float(ts) < latest
            and m.versions[-1].get("thread_ts") in (None, ts)
            and (after is None or float(ts) < after)
        ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return self._history_page(found, args, default_limit=100)

    def _conversations_replies(self, args: JSON) -> JSON:
        """The thread's parent (first page only) then its replies after ``oldest``, oldest first, ``limit`` a
        page (1,000 unless asked), the rest behind ``response_metadata.next_cursor``."""
        channel = self._dm_channel(str(args.get("channel") or ""))
        problem = self._history_problem("conversations.replies", channel)
        if problem is not None:
            return problem
        root = str(args.get("ts") or "")
        if (channel, root) not in self._messages:
            return {"ok": False, "error": "thread_not_found"}
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or math.inf)
        try:
            after = self._read_cursor(args.get("cursor"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        replies = [
            m.versions[-1]
            for (ch, ts), m in self._messages.items()
            if ch == channel
            and ts != root
            and m.versions[-1].get("thread_ts") == root
            and oldest < float(ts) < latest
            and (after is None or float(ts) > after)
        ]
        replies.sort(key=lambda m: float(m["ts"]))
        thread = replies if after is not None else [self._messages[(channel, root)].versions[-1], *replies]
        return self._history_page(thread, args, default_limit=1000)

    def _history_page(self, messages: list[JSON], args: JSON, *, default_limit: int) -> JSON:
        limit = min(int(args.get("limit") or default_limit), 999 if default_limit == 100 else 1000)
        page, more = messages[:limit], len(messages) > limit
        body: JSON = {"ok": True, "messages": [self._history_view(m, args) for m in page], "has_more": more}
        # Slack's cursors are opaque; this one names the last message given (base64, as Slack's look).
        next_cursor = base64.b64encode(f"ts:{page[-1]['ts']}".encode()).decode() if more and page else ""
        body["response_metadata"] = {"next_cursor": next_cursor}
        return body

    @staticmethod
    def _read_cursor(cursor: object) -> float | None:
        """The ts a cursor given out earlier names; ValueError for one the stand-in never gave out."""
        if not cursor:
            return None
        try:
            kind, _, ts = base64.b64decode(str(cursor), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("not a cursor") from exc
        if kind != "ts":
            raise ValueError("not a cursor")
        return float(ts)

    def _chat_update(self, args: JSON) -> JSON:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        channel = self._dm_channel(str(args["channel"]))
        if not self._is_dm(channel):
            found = self._visible(channel)
            if found is None:
                return {"ok": False, "error": "channel_not_found"}
            if found.is_archived:
                return {"ok": False, "error": "is_archived"}
        stored = self._messages.get((channel, str(args.get("ts", ""))))
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        problem = self._message_problem(args, "chat.update")
        if problem is not None:
            return problem
        # Like Slack: omitted blocks/attachments are kept; an empty array removes them.
        current = copy.deepcopy(stored.versions[-1])
        if "text" in args:
            current["text"] = args["text"]
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                if args[key]:
                    current[key] = copy.deepcopy(args[key])
                else:
                    current.pop(key, None)
        if not current.get("text") and current.get("blocks"):
            current["text"] = _NO_TEXT_FALLBACK
        current["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        stored.versions.append(current)
        message = {k: v for k, v in current.items() if k != "channel"}
        return {"ok": True, "channel": channel, "ts": stored.ts, "text": current.get("text", ""), "message": message}

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        missing = self._missing(args, "channel", "user")
        if missing is not None:
            return missing
        if not self._is_dm(str(args["channel"])):
            found = self._visible(str(args["channel"]))
            if found is None:
                return {"ok": False, "error": "channel_not_found"}
            if found.is_archived:
                return {"ok": False, "error": "is_archived"}
            if not found.is_member:  # Slack shows ephemerals only where the bot is a member
                return {"ok": False, "error": "not_in_channel"}
        problem = self._message_problem(args, "chat.postEphemeral")
        if problem is not None:
            return problem
        ts = self._next_ts()
        ephemeral = {**self._message_object(args, ts), "channel": args["channel"], "to_user": args["user"]}
        self.ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ts}

    def _chat_get_permalink(self, args: JSON) -> JSON:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("message_ts"):
            return {"ok": False, "error": "message_not_found"}
        channel = self._dm_channel(str(args["channel"]))
        if not self._is_dm(channel) and self._visible(channel) is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = str(args["message_ts"])
        permalink = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        stored = self._messages.get((channel, ts))
        if stored is not None:
            thread_ts = stored.versions[-1].get("thread_ts")
            if thread_ts and thread_ts != ts:
                permalink += f"?thread_ts={thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": permalink}

    def _conversations_info(self, args: JSON) -> JSON:
        channel_id = str(args.get("channel") or "")
        found = self._visible(channel_id) if channel_id and not self._is_dm(channel_id) else None
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = self._conversation_scope("conversations.info", found)
        if problem is not None:
            return problem
        return {"ok": True, "channel": self._channel_info(channel_id)}

    def _conversations_join(self, args: JSON) -> JSON:
        channel_id = str(args.get("channel") or "")
        found = self._visible(channel_id) if channel_id and not self._is_dm(channel_id) else None
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        if found.is_private:  # a private channel is joined by invitation only
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if found.is_archived:
            return {"ok": False, "error": "is_archived"}
        answer: JSON = {"ok": True}
        if found.is_member:
            answer.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
        found.is_member = True
        return {**answer, "channel": self._channel_info(channel_id)}

    def _users_info(self, args: JSON) -> JSON:
        info = self._user_info(str(args.get("user", ""))) if args.get("user") else None
        if info is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": info}

    def _usergroups_users_list(self, args: JSON) -> JSON:
        group = args.get("usergroup")
        if not group:
            return self._missing(args, "usergroup") or {"ok": False, "error": "invalid_arguments"}
        if group not in self._usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self._usergroups[group])}

    def _view_problem(self, view: Any) -> JSON | None:
        errors = validate_view(view)
        if not errors:
            return None
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }

    def _store_view(self, view: JSON, view_id: str | None = None, *, root: str | None = None) -> JSON:
        view_id = view_id or f"V{next(self._ids):010d}"
        stored: JSON = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": hashlib.sha1(f"{view_id}:{time.monotonic_ns()}".encode()).hexdigest()[:24],
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root or view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                stored[key] = copy.deepcopy(view[key])
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    def _views_open(self, args: JSON) -> JSON:
        missing = self._missing(args, "trigger_id", "view")
        if missing is not None:
            return missing
        problem = self._view_problem(args["view"])
        if problem is not None:
            return problem
        return {"ok": True, "view": self._store_view(args["view"])}

    def _views_update(self, args: JSON) -> JSON:
        if not args.get("view_id") and not args.get("external_id"):
            return self._missing(args, "view_id") or {"ok": False, "error": "invalid_arguments"}
        missing = self._missing(args, "view")
        if missing is not None:
            return missing
        if args.get("view_id"):
            current = self._views.get(str(args["view_id"]))
        else:
            current = next((v for v in self._views.values() if v["external_id"] == args["external_id"]), None)
        if current is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        problem = self._view_problem(args["view"])
        if problem is not None:
            return problem
        return {"ok": True, "view": self._store_view(args["view"], current["id"], root=current["root_view_id"])}

    def _views_publish(self, args: JSON) -> JSON:
        missing = self._missing(args, "user_id", "view")
        if missing is not None:
            return missing
        view = args["view"]
        if isinstance(view, dict) and view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        problem = self._view_problem(view)
        if problem is not None:
            return problem
        user_id = str(args["user_id"])
        stored = self._store_view(view, self._home_views.get(user_id))
        self._home_views[user_id] = stored["id"]
        return {"ok": True, "view": stored}
