"""Settings for the bot's services built inside the test process against the fakes."""

from __future__ import annotations

from pathlib import Path

from bot.app.settings import Settings
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, SIGNING_SECRET

__all__ = ["in_process_settings"]


def in_process_settings(
    slack: SlackStandIn, database: Path | str, *, pinecone_url: str = "http://127.0.0.1:9"
) -> Settings:
    """Settings for services built inside the test process against the fakes (no bot process, no port).
    `database` is a SQLite file or a DATABASE_URL. Pinecone is unreachable unless `pinecone_url` names an
    emulator."""
    return Settings(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PINECONE_API_KEY=PINECONE_API_KEY,
        PINECONE_CONTROLLER_HOST=pinecone_url,
        DATABASE_URL=database if isinstance(database, str) else f"sqlite:///{database}",
        RESTORE_BOT_ALLOWED_CHANNELS=CHANNEL,
    )
