"""The single error handler: log with a reference, tell the user the reference, never a traceback.

Listeners answer Slack first and do the rest in a background task started with `after_ack`
(the app runs with `process_before_response=True`, so Bolt sends its answer only when the listener
returns). A failure in that task gets the same treatment as one Bolt catches: logged with a
reference, and the reference sent to the user. That task first claims the delivery (`SeenDeliveries.claim`),
so a Slack retry that reached another bot process is done by one of them only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.render import apology, form_apology
from bot.service.unexpected_errors import log_unexpected
from bot.service.use_cases import UseCases
from handlers.dedupe import delivery_key

log = logging.getLogger(__name__)


def register_error_handler(app: AsyncApp) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any], context: dict[str, Any]) -> BoltResponse:
        # Only a request that passed verification and authorization may make the bot call a URL it names.
        reference = await apologise(error, body, authorized=context.get("authorize_result") is not None)
        # A form's submission carries no response_url: the apology goes under its first field, and the form
        # stays open (an empty 200 would close it as if the submission had worked).
        view = body.get("view")
        if body.get("type") == "view_submission" and isinstance(view, dict):
            answer = form_apology(view, reference)
            if answer is not None:
                return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
        # 200: Slack would show its own "failed with the error" banner for a 5xx and retry events.
        return BoltResponse(status=200, body="")


def after_ack(cases: UseCases, work: Coroutine[Any, Any, None], *, body: dict[str, Any], name: str) -> None:
    """Run `work` after the answer to Slack, tracked for shutdown, unless another bot process claimed the
    delivery first. Its callers are Bolt listeners (past Bolt's authorization) and the direct slash-command
    path (past the signature check in bot/app/server.py), so the request's response_url may be used for the
    apology."""
    key = delivery_key(body)

    async def guarded() -> None:
        try:
            if key is not None and not await cases.seen.claim(key):
                return
            await work
        except Exception as exc:
            await apologise(exc, body, authorized=True)
        finally:
            work.close()  # one never started (claimed elsewhere, or cancelled first) is closed, not left unawaited

    cases.tasks.spawn(guarded(), name=name)


async def apologise(error: Exception, body: dict[str, Any], *, authorized: bool) -> str:
    """Log `error` with a reference, tell the user the reference where the request says how; the reference."""
    reference = log_unexpected(error, f"Slack request {body.get('command') or body.get('type') or 'unknown'}")
    response_url = body.get("response_url")
    if authorized and isinstance(response_url, str):
        try:
            await AsyncWebhookClient(response_url).send(text=apology(reference), response_type="ephemeral")
        except Exception as exc:  # the apology is best effort; the error is already logged
            log.warning("could not deliver the error reference %s: %s", reference, type(exc).__name__)
    return reference
