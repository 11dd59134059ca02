"""HTTP front door: `POST /slack/events` into Bolt, `GET /healthz` for orchestrators."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.services import Services


def create_web_app(app: AsyncApp | None, services: Services) -> web.Application:
    """`app` is None in Socket Mode, where only the health check is served over HTTP."""
    web_app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        if services.shutting_down:
            return web.json_response({"status": "shutting down"}, status=503)
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", healthz)
    if app is not None:

        async def slack_events(request: web.Request) -> web.Response:
            bolt_response = await app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        web_app.router.add_post("/slack/events", slack_events)
    return web_app
