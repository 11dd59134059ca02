"""The baseline for bench/ack_latency.py: a bare Bolt AsyncApp, default settings, that acks and does nothing.

Served by aiohttp the way bot/app/server.py serves the bot (web.AppRunner + TCPSite on 127.0.0.1, no access
log, raw body -> AsyncBoltRequest -> app.async_dispatch -> to_aiohttp_response). Usage:
    python bench/_bare_app.py PORT SIGNING_SECRET SLACK_API_URL BOT_TOKEN
Prints "bare ready" once serving; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient


async def main(port: int, secret: str, api_url: str, token: str) -> None:
    # Default settings; the client only points Bolt's auth.test at the Slack stand-in.
    app = AsyncApp(signing_secret=secret, client=AsyncWebClient(token=token, base_url=api_url))

    @app.command("/restore-index")
    async def on_command(ack: AsyncAck) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8")
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host="127.0.0.1", port=port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("bare ready", flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]))
