"""The Pinecone client's transport seam: every HTTP attempt counted by its templated endpoint and status.

`CountingTransport` wraps the real `httpx.AsyncHTTPTransport`, as httpx's own transports compose, so the
client stays a plain `httpx.AsyncClient`. It sees every attempt the client makes (each retry counts
once), including those that get no HTTP answer (timeouts, refused or dropped connections), which
response event hooks never see. Endpoints are templated (`/backups/{backup_id}`), never an ID or a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

#: Told of each attempt: method, templated endpoint, and the HTTP status or "error" when no answer came.
OnAttempt = Callable[[str, str, str], None]

# Paths relative to PINECONE_CONTROLLER_HOST, each with its template; anything else is "other".
_CONTROL_PLANE = (
    (re.compile(r"/backups"), "/backups"),
    (re.compile(r"/backups/[^/]+"), "/backups/{backup_id}"),
    (re.compile(r"/backups/[^/]+/create-index"), "/backups/{backup_id}/create-index"),
    (re.compile(r"/restore-jobs"), "/restore-jobs"),
    (re.compile(r"/restore-jobs/[^/]+"), "/restore-jobs/{job_id}"),
    (re.compile(r"/indexes"), "/indexes"),
    (re.compile(r"/indexes/[^/]+"), "/indexes/{index_name}"),
    (re.compile(r"/indexes/[^/]+/backups"), "/indexes/{index_name}/backups"),
)
# Data-plane calls go to the index's own host, so only the operation is kept, never the host.
_DATA_PLANE = re.compile(r"(?:.*/)?describe_index_stats")


def pinecone_endpoint(url: httpx.URL, base_url: httpx.URL | None = None) -> str:
    """The templated endpoint of a Pinecone request URL: `/backups/{backup_id}`, never an ID."""
    path = url.path
    if base_url is not None and (url.scheme, url.host, url.port) == (base_url.scheme, base_url.host, base_url.port):
        prefix = base_url.path.rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
    path = path.rstrip("/") or "/"
    for pattern, template in _CONTROL_PLANE:
        if pattern.fullmatch(path):
            return template
    if _DATA_PLANE.fullmatch(path):
        return "/describe_index_stats"
    return "other"


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, on_attempt: OnAttempt, base_url: str | httpx.URL) -> None:
        self._inner = inner
        self._on_attempt = on_attempt
        self._base_url = httpx.URL(base_url)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = pinecone_endpoint(request.url, self._base_url)
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            self._on_attempt(request.method, endpoint, "error")
            raise
        self._on_attempt(request.method, endpoint, str(response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
