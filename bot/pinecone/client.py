"""An async client for the control-plane endpoints a restore needs.

It takes an injected `httpx.AsyncClient` (so tests can point it at an emulator or a
`MockTransport`) and adds the two headers every call needs. Reads retry transient failures
with jittered exponential backoff that honours `Retry-After`; create-index is never retried
here, because only the caller can decide whether a lost answer means "created" or "not".
"""

from __future__ import annotations

import copy
import email.utils
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from bot.pinecone.errors import (
    PineconeAPIError,
    PineconeUnreachable,
    error_for,
    is_transient,
    transport_error,
)
from bot.pinecone.models import (
    Backup,
    BackupList,
    CreateIndexFromBackupRequest,
    CreateIndexFromBackupResponse,
    ErrorResponse,
    IndexModel,
    IndexStats,
    Page,
    RestoreJob,
    RestoreJobList,
    read_index_names,
    read_list,
)

API_VERSION = "2026-07"
# The most of a plain-text error body (a 401 in 2026-07) kept as its message.
PLAIN_MESSAGE_LIMIT = 200
MAX_RETRY_AFTER = 60.0

_Model = TypeVar("_Model", bound=BaseModel)
_T = TypeVar("_T")
_Listed = TypeVar("_Listed", bound=BaseModel)


class PineconeClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        *,
        read_attempts: int = 4,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        self._http = http
        self._headers = {"Api-Key": api_key, "X-Pinecone-Api-Version": API_VERSION}
        self._read_attempts = read_attempts
        self._backoff = wait_random_exponential(multiplier=backoff_initial, max=backoff_max)

    def without_retries(self) -> PineconeClient:
        """The same connection pool, but every read is tried once: for callers with their own back-off."""
        clone = copy.copy(self)
        clone._read_attempts = 1
        return clone

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- reads (retried) ---------------------------------------------------------------------

    async def describe_backup(self, backup_id: str) -> Backup:
        return await self._read(f"/backups/{_segment(backup_id)}", Backup)

    async def list_backups(self, *, limit: int = 100, pagination_token: str | None = None) -> BackupList:
        """One page of backups; an item that does not match the spec is in `malformed`, not an error."""

        async def attempt() -> BackupList:
            response = await self._send("GET", "/backups", params=_page(limit, pagination_token))
            return _parse_list(response, Backup, "backup_id")

        return await self._with_retries(attempt)

    async def list_index_backups(
        self,
        index_name: str,
        *,
        include_deleted: bool = False,
        limit: int = 100,
        pagination_token: str | None = None,
    ) -> BackupList:
        """One page of the backups of one index (`GET /indexes/{index_name}/backups`), in no promised order.

        Without `include_deleted`, NotFound means no *active* index has that name; with it, the backups of
        every index that ever had the name (deleted ones carry `source_index_deleted_at`), and NotFound
        means no index by that name ever existed."""
        params = _page(limit, pagination_token)
        if include_deleted:
            params["include_deleted"] = "true"

        async def attempt() -> BackupList:
            response = await self._send("GET", f"/indexes/{_segment(index_name)}/backups", params=params)
            return _parse_list(response, Backup, "backup_id")

        return await self._with_retries(attempt)

    async def list_index_names(self) -> list[str]:
        """The names of the project's indexes (`GET /indexes`, one answer, no pages); an item without a
        readable name is left out."""

        async def attempt() -> list[str]:
            response = await self._send("GET", "/indexes")
            try:
                return read_index_names(response.content)
            except (ValidationError, ValueError):
                raise PineconeUnreachable(
                    f"Pinecone answered {response.status_code} with a list that does not match its API spec"
                ) from None

        return await self._with_retries(attempt)

    async def describe_restore_job(self, job_id: str) -> RestoreJob:
        return await self._read(f"/restore-jobs/{job_id}", RestoreJob)

    async def list_restore_jobs(self, *, limit: int = 100, pagination_token: str | None = None) -> RestoreJobList:
        """One page of restore jobs, in whatever order Pinecone lists them (the spec promises none). An item
        that does not match the spec is in `malformed` with its ID, and the rest of the page is used."""

        async def attempt() -> RestoreJobList:
            response = await self._send("GET", "/restore-jobs", params=_page(limit, pagination_token))
            return _parse_list(response, RestoreJob, "restore_job_id")

        return await self._with_retries(attempt)

    async def describe_index(self, name: str) -> IndexModel:
        return await self._read(f"/indexes/{name}", IndexModel)

    async def describe_index_stats(self, data_plane_url: str) -> IndexStats:
        """Statistics of an index, from its own host (the data plane), e.g. https://<host>."""

        async def attempt() -> IndexStats:
            response = await self._send("POST", f"{data_plane_url.rstrip('/')}/describe_index_stats", json={})
            return _parse(response, IndexStats)

        return await self._with_retries(attempt)

    # -- the one write -----------------------------------------------------------------------

    async def create_index_from_backup(
        self, backup_id: str, request: CreateIndexFromBackupRequest
    ) -> CreateIndexFromBackupResponse:
        """One attempt, never repeated here: see `errors.is_ambiguous`."""
        response = await self._send("POST", f"/backups/{_segment(backup_id)}/create-index", json=request.to_json())
        return _parse(response, CreateIndexFromBackupResponse)

    # -- plumbing ----------------------------------------------------------------------------

    async def _read(self, path: str, model: type[_Model]) -> _Model:
        async def attempt() -> _Model:
            return _parse(await self._send("GET", path), model)

        return await self._with_retries(attempt)

    async def _with_retries(self, call: Callable[[], Awaitable[_T]]) -> _T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self._read_attempts),
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await call()
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, PineconeAPIError) and error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER)
        return float(self._backoff(state))

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, headers=self._headers, **kwargs)
        except httpx.TransportError as exc:
            raise transport_error(exc) from None
        if response.is_success:
            return response
        raise _error_from(response)


def _segment(value: str) -> str:
    """A path segment, escaped: an index name the bot passes on was checked, but never trust it to be."""
    return urllib.parse.quote(value, safe="")


def _page(limit: int, pagination_token: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if pagination_token:
        params["paginationToken"] = pagination_token
    return params


def _parse(response: httpx.Response, model: type[_Model]) -> _Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        # A 2xx we cannot read is Pinecone misbehaving, not the user's fault.
        raise PineconeUnreachable(
            f"Pinecone answered {response.status_code} with a body that does not match its API spec"
        ) from None


def _parse_list(response: httpx.Response, model: type[_Listed], id_key: str) -> Page[_Listed]:
    try:
        return read_list(response.content, model, id_key)
    except (ValidationError, ValueError):
        raise PineconeUnreachable(
            f"Pinecone answered {response.status_code} with a list that does not match its API spec"
        ) from None


def _error_from(response: httpx.Response) -> PineconeAPIError:
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        body = ErrorResponse.model_validate_json(response.content)
        code, message = body.error.code, body.error.message
    except ValidationError:
        # 2026-07 answers 401 in plain text ("Invalid API key"); anything else unreadable is named by its status.
        code, message = "UNKNOWN", _plain_message(response)
    return error_for(response.status_code, code, message, retry_after)


def _plain_message(response: httpx.Response) -> str:
    fallback = response.reason_phrase or f"HTTP {response.status_code}"
    if not response.headers.get("Content-Type", "").startswith("text/plain"):
        return fallback
    text = " ".join(response.text.split()).strip('"')
    return text[:PLAIN_MESSAGE_LIMIT] or fallback


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
