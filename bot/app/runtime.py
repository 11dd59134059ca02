"""Start-up and shutdown: open the store, contend for the background work (bot/app/leadership.py), serve, then
stop cleanly on SIGTERM: the leader lets its background work finish its round and gives the leadership up, so
another replica takes it over at once."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

import anyio
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app.bolt_app import create_app
from bot.app.server import create_web_app
from bot.app.settings import Settings
from bot.app.wiring import Services, build_services, channels_to_check

log = logging.getLogger(__name__)

# How long in-flight requests may run after SIGTERM before they are cut off.
DRAIN_SECONDS = 20.0
# How long start-up spends finding out where the bot can post; what it does not learn is looked up on demand.
SURVEY_SECONDS = 15.0
LISTEN_HOST = "0.0.0.0"


async def serve(settings: Settings, *, host: str = LISTEN_HOST) -> int:
    services = await build_services(settings)
    app = create_app(services)
    signalled = asyncio.Event()
    # Set only after in-flight requests have drained, so they can still be tracked and announced.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, signalled.set)

    runner = web.AppRunner(create_web_app(None if settings.socket_mode else app, services), access_log=None)
    socket_handler: AsyncSocketModeHandler | None = None
    await services.seen.load()
    await survey_channels(services)
    # The tracker and the Slack sender, while this replica leads; contending for it meanwhile. The first try
    # is made before serving, so a replica that finds nobody leading says "ready" as the leader.
    await services.leadership.step()
    leadership = asyncio.create_task(services.leadership.run(stopping), name="leadership")
    leases = asyncio.create_task(services.leases.run(stopping), name="leases")
    seen = asyncio.create_task(services.seen.run(stopping), name="seen-deliveries")
    try:
        await runner.setup()
        await web.TCPSite(runner, host=host, port=settings.port).start()
        if settings.socket_mode:
            assert settings.slack_app_token is not None
            socket_handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
            await socket_handler.connect_async()  # type: ignore[no-untyped-call]
        # httpx's first request makes httpcore load anyio's asyncio backend: a module import that held the
        # loop for about 0.1 s (py-spy, bench/ack_latency.py) in the middle of the first burst of commands.
        # Loaded now, while nobody waits for an answer.
        anyio.Event()
        # What start-up built (modules, clients, the app) lives as long as the process: keep it out of
        # the collector's full passes, which otherwise walk all of it and stalled acks for tens of ms.
        gc.freeze()
        mode = "Socket Mode" if settings.socket_mode else "HTTP mode, POST /slack/events"
        log.info("restore-bot ready on port %d (%s)", settings.port, mode)
        await signalled.wait()

        log.info("shutting down: finishing in-flight requests (up to %.0fs)", DRAIN_SECONDS)
        if not await services.tasks.drain(DRAIN_SECONDS):
            log.warning("some requests did not finish in time; the tracker resumes them on the next start")
    finally:
        stopping.set()
        await leadership
        await leases
        await seen
        if socket_handler is not None:
            await socket_handler.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await services.close()
    log.info("restore-bot stopped")
    return 0


async def survey_channels(services: Services) -> None:
    """Look at every allowed channel and the incident channel, join the public ones, and log one line per
    channel the bot cannot post in (with the fix). Never fatal: `python -m bot check` is the strict one."""
    try:
        async with asyncio.timeout(SURVEY_SECONDS):
            await services.channels.survey(channels_to_check(services.policy))
    except TimeoutError:
        log.warning(
            "start-up: Slack did not say within %.0fs where the bot can post; it asks again when needed",
            SURVEY_SECONDS,
        )
    except Exception:  # a look around must never stop the bot from starting
        log.exception("start-up: could not check where the bot can post; it asks again when needed")
