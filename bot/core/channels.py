"""Where the bot can speak: what Slack says about a channel, and what that means for a restore there.

Slack's rules for a bot token (https://docs.slack.dev/reference/methods/chat.postMessage and friends):

* a **public** channel takes the bot's posts without an invite (`chat:write.public`), but reading its
  history (needed to find a message after a crash) and ephemeral answers need membership: the bot joins
  it (`conversations.join`, scope `channels:join`);
* a **private** channel the bot was not invited to is invisible to it: Slack answers `channel_not_found`
  to everything, so nothing tells it apart from a channel that does not exist. The fix is
  `/invite @restore-bot` in that channel;
* an **archived** channel takes nothing (`is_archived`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

INVITE = "/invite @restore-bot"


@dataclass(frozen=True)
class ChannelFacts:
    """What `conversations.info` says about a channel the bot can see."""

    is_private: bool
    is_member: bool
    is_archived: bool
    name: str | None = None


class Blocker(StrEnum):
    """Why the bot cannot post in a channel."""

    NOT_VISIBLE = "not_visible"  # private and the bot is not in it, or no such channel
    ARCHIVED = "archived"
    LOST = "lost"  # Slack refused a post there (the bot was removed, the channel archived, a scope revoked)


@dataclass(frozen=True)
class Reach:
    """Whether the bot can post in a channel, and whether it is a member (history and ephemerals need that)."""

    channel_id: str
    can_post: bool
    member: bool
    blocker: Blocker | None = None
    #: The Slack error behind `Blocker.LOST`.
    error: str | None = None


def reach_of(channel_id: str, facts: ChannelFacts | None) -> Reach:
    """The verdict for a channel from `conversations.info` (None: Slack answered `channel_not_found`)."""
    if facts is None:
        return Reach(channel_id, can_post=False, member=False, blocker=Blocker.NOT_VISIBLE)
    if facts.is_archived:
        return Reach(channel_id, can_post=False, member=facts.is_member, blocker=Blocker.ARCHIVED)
    if facts.is_private and not facts.is_member:
        return Reach(channel_id, can_post=False, member=False, blocker=Blocker.NOT_VISIBLE)
    return Reach(channel_id, can_post=True, member=facts.is_member)


def lost(channel_id: str, error: str) -> Reach:
    """A channel where Slack refused a post for good (`is_archived`, `channel_not_found`, `not_in_channel`...)."""
    if error == "is_archived":
        return Reach(channel_id, can_post=False, member=False, blocker=Blocker.ARCHIVED, error=error)
    if error == "channel_not_found":
        return Reach(channel_id, can_post=False, member=False, blocker=Blocker.NOT_VISIBLE, error=error)
    return Reach(channel_id, can_post=False, member=False, blocker=Blocker.LOST, error=error)


def problem_line(reach: Reach) -> str:
    """One plain line (for the log and `python -m bot check`): what is wrong with the channel and the fix."""
    match reach.blocker:
        case Blocker.NOT_VISIBLE:
            return (
                f"channel {reach.channel_id}: restore-bot cannot post there: it is private and restore-bot is not "
                f"in it (or it does not exist); fix: {INVITE} in that channel"
            )
        case Blocker.ARCHIVED:
            return (
                f"channel {reach.channel_id}: restore-bot cannot post there: it is archived; fix: unarchive it, "
                "or take it out of the allowed channels (or the policy)"
            )
        case Blocker.LOST:
            return (
                f"channel {reach.channel_id}: Slack refused restore-bot's post there ({reach.error}); "
                f"fix: {INVITE} in that channel, and check the app's scopes"
            )
    return f"channel {reach.channel_id}: ok"
