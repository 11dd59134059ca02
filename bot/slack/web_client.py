"""The Slack Web API client the bot uses: slack_sdk's, with its retry handlers, optionally counting calls.

`CountingWebClient` counts each Web API call once, after slack_sdk's own retries: every method
(`chat_postMessage`, `views_open`, ...) goes through `api_call`, the one seam slack_sdk offers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.errors import NOT_REPEATABLE

#: Told of each call: the Web API method and its outcome (ok, the Slack error code, http_<status>, error).
OnCall = Callable[[str, str], None]


class _Repeatable:
    """Retries only what Slack may safely be sent twice: a 5xx or a dropped connection after a post may come
    after Slack stored the message, and posting it again would show it twice. The sender looks such a post
    up by its metadata before it tries again (bot/service/delivery.py). A 429 always means "not done"."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in NOT_REPEATABLE:
            return False
        return bool(
            await super()._can_retry_async(  # type: ignore[misc]
                state=state, request=request, response=response, error=error
            )
        )


class RepeatableServerErrorRetryHandler(_Repeatable, AsyncServerErrorRetryHandler):
    pass


class RepeatableConnectionErrorRetryHandler(_Repeatable, AsyncConnectionErrorRetryHandler):
    pass


def web_client(token: str, base_url: str, *, on_call: OnCall | None = None) -> AsyncWebClient:
    """A client that retries 429s (honouring Retry-After), and dropped connections and 5xx a few times for
    calls that may be repeated (never a post: see `_Repeatable`)."""
    options: dict[str, Any] = {
        "token": token,
        "base_url": base_url,
        "retry_handlers": [
            RepeatableConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            RepeatableServerErrorRetryHandler(max_retry_count=2),
        ],
    }
    if on_call is None:
        return AsyncWebClient(**options)
    return CountingWebClient(on_call=on_call, **options)


def slack_outcome(response: Any) -> str:
    """ "ok", the Slack error code of an ok=false answer, or "http_<status>" for an HTTP error."""
    status = getattr(response, "status_code", 200)
    if status != 200:
        return f"http_{status}"
    data = getattr(response, "data", None)
    if isinstance(data, dict) and not data.get("ok", False):
        return str(data.get("error") or "unknown_error")[:64]
    return "ok"


class CountingWebClient(AsyncWebClient):
    """An `AsyncWebClient` that tells `on_call` of each Web API call once, after slack_sdk's own retries."""

    def __init__(self, *args: Any, on_call: OnCall, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_call = on_call

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self.on_call(api_method, slack_outcome(exc.response))
            raise
        except Exception:  # no answer: connection refused or dropped, timeout
            self.on_call(api_method, "error")
            raise
        self.on_call(api_method, slack_outcome(response))
        return response
