"""Socket Mode: with SLACK_APP_TOKEN set the bot connects out and serves the same command."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import StartBot
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, USER


async def test_a_restore_over_socket_mode(start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with start_bot(SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET=None) as bot:
        await slack.wait_for(lambda: slack.socket_connected)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{bot.url}/healthz")).status_code == 200
            # No HTTP endpoint for Slack in Socket Mode: nothing unsigned can come in that way.
            assert (await client.post(f"{bot.url}/slack/events", content=b"x")).status_code in (404, 405)

        response_url = slack.new_response_url()
        envelope = await slack.send_envelope(
            "slash_commands",
            {
                "command": "/restore-index",
                "text": f"{backup['backup_id']} restored-index",
                "user_id": USER,
                "channel_id": CHANNEL,
                "team_id": "T0TEST",
                "api_app_id": "A0BOT",
                "response_url": response_url,
                "trigger_id": "1.2.3",
            },
        )
        ack = await slack.wait_for(lambda: slack.socket_ack(envelope))
        assert "Checking backup" in str(ack.get("payload"))
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        await slack.wait_for(lambda: [m for m in slack.thread(CHANNEL, parent["ts"]) if "is ready" in m["text"]])
        assert "started" in response_posts(slack, response_url)[0]["text"]
    assert len(pinecone.create_index_calls) == 1
