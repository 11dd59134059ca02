"""HTTP front door: `POST /slack/events`, `GET /healthz` for orchestrators, `GET /metrics`.

`GET /healthz` answers 503 while the bot drains after SIGTERM and while the job store does not answer
(`JobStore.ping`: a PostgreSQL server that is down or unreachable; SQLite's file always answers).

The signature is checked here, on the raw bytes, before anything parses the body: an unsigned or
mis-signed request gets 401 whatever it contains, and nothing of it is acted on. The one exception is
Slack's SSL check (`ssl_check=1`), which Slack sends unsigned: it gets an empty 200, as Bolt answers it,
and nothing else happens. It is the only check
(Bolt's own is switched off in bot/app/bolt_app.py: it would repeat the same HMAC over the same bytes). A signed
body that cannot be parsed gets 400, never 500.

`/restore-index` slash commands, the hot path in an incident, are answered by
`handlers.commands.answer_directly` without Bolt's per-request pipeline; everything else (interactions,
modals, events, Slack's SSL check) goes to Bolt. Every answer counts as an ack being answered for
`bot.service.ack_priority`, so the restores a burst of commands starts wait until the burst has been answered.

`GET /metrics` is Prometheus' text format, served in HTTP mode and in Socket Mode (where this server
only has the health check and the metrics). `POST /slack/events` is timed from receipt to answer
(`restore_bot_ack_seconds`), whatever the answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.app.metrics import CONTENT_TYPE, Metrics
from bot.app.wiring import Services
from bot.service.unexpected_errors import log_unexpected
from handlers.commands import answer_directly, slash_command
from storage import StoreUnavailable

log = logging.getLogger(__name__)
SLACK_EVENTS = "/slack/events"


def create_web_app(app: AsyncApp | None, services: Services) -> web.Application:
    """`app` is None in Socket Mode, where only the health check and the metrics are served over HTTP."""
    web_app = web.Application(middlewares=[ack_timer(services.metrics)])

    async def healthz(_: web.Request) -> web.Response:
        if services.tasks.draining:
            return web.json_response({"status": "shutting down"}, status=503)
        if not await services.store.ping():  # bounded: a few seconds at most
            return web.json_response({"status": "database unreachable"}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics(_: web.Request) -> web.Response:
        try:
            await services.metrics.refresh_jobs(services.store)
        except StoreUnavailable as exc:  # the other metrics are still worth serving; the gauge keeps its last values
            log.warning("metrics: could not count jobs in the store: %s", exc)
        services.metrics.refresh_pool(services.store.pool_stats())
        return web.Response(body=services.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    secret = services.settings.slack_signing_secret
    if app is not None and secret is not None:
        verifier = SignatureVerifier(secret.get_secret_value())

        async def slack_events(request: web.Request) -> web.Response:
            with services.restores.acks.answering():
                return await answer(request)

        async def answer(request: web.Request) -> web.Response:
            raw = await request.read()
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:  # Slack sends UTF-8; anything else is not from Slack
                return web.json_response({"error": "invalid request signature"}, status=401)
            if is_ssl_check(body, request.headers.get("Content-Type")):
                return web.Response(status=200)
            if not is_signed(verifier, body, request.headers):
                return web.json_response({"error": "invalid request signature"}, status=401)
            command = slash_command(body, request.headers.get("Content-Type"))
            if command is not None:
                respond = AsyncRespond(
                    response_url=command.get("response_url"), proxy=services.slack.proxy, ssl=services.slack.ssl
                )
                bolt_response = await answer_directly(services.cases, command, respond)
                return await to_aiohttp_response(bolt_response)
            try:
                bolt_request = AsyncBoltRequest(
                    body=body,
                    query=request.query_string,
                    headers=request.headers,  # type: ignore[arg-type]
                )
            except (ValueError, AttributeError, TypeError):  # JSON that is not an object, bad payload=...
                return web.json_response({"error": "malformed request body"}, status=400)
            try:
                bolt_response = await app.async_dispatch(bolt_request)
            except Exception as exc:  # a signed but malformed payload that Bolt could not route
                reference = log_unexpected(exc, "dispatching a Slack request")
                return web.json_response({"error": f"malformed request (reference {reference})"}, status=400)
            return await to_aiohttp_response(bolt_response)

        web_app.router.add_post(SLACK_EVENTS, slack_events)
    return web_app


def ack_timer(metrics: Metrics) -> Middleware:
    """Times every `POST /slack/events` from receipt to the answer (the ack Slack waits up to 3 s for)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != SLACK_EVENTS:
            return await handler(request)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            metrics.ack_seconds.observe(time.perf_counter() - started)

    return middleware


def is_ssl_check(body: str, content_type: str | None) -> bool:
    """Slack's SSL check: a form body with `ssl_check=1`, sent unsigned (https://docs.slack.dev, slash commands)."""
    if "ssl_check" not in body:  # the common case, without parsing
        return False
    if content_type is not None and not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    return dict(parse_qsl(body, keep_blank_values=True)).get("ssl_check") == "1"


def is_signed(verifier: SignatureVerifier, body: str, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature over the raw body, within the 5-minute window."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and signature):
        return False
    return bool(verifier.is_valid(body=body, timestamp=timestamp, signature=signature))
