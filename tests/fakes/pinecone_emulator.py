"""A Pinecone control-plane emulator whose wire format is checked against the vendored OpenAPI spec.

Why an emulator instead of mocks: the bot under test runs in its own process and talks HTTP, so
the only faithful seam is the network.  Why spec-driven: a hand-written fake silently drifts from
the real API, and tests then pass against behaviour that production never exhibits.  Here every
request is routed and validated with the schemas in ``tests/pinecone_spec/db_control_2026-04.oas.yaml``
and every response the emulator produces is validated against the schema documented for its
status code.  A response that does not match is an emulator bug: it is recorded in
:attr:`PineconeEmulator.spec_violations` and answered with HTTP 500, so it cannot go unnoticed.

Behaviour that the spec only states in prose (index-name and tag rules) is enforced explicitly.
Restores progress with (emulator) time: a job is ``Pending`` for the first 10% of its duration,
``InProgress`` with a linearly rising ``percent_complete`` for the rest, then ``Completed``, at which
point its index becomes ``Ready``.  Tests can make restores fail, take forever, or jump ahead in time
with :meth:`PineconeEmulator.advance`, and can inject faults (HTTP errors, slowness, lost responses,
dropped connections) into any route.

Usage::

    async with PineconeEmulator(api_key="pc-test-key") as emu:
        backup = emu.add_backup()
        ...  # point the bot at emu.base_url
        index = await emu.wait_for(lambda: (i := emu.index("restored")) and i["status"]["ready"] and i)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import fnmatch
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes._support import ChangeNotifier, LoopbackServer
from tests.fakes.openapi import DESERIALIZATION_KEYWORDS, OpenApiSpec, Operation

__all__ = [
    "API_VERSION",
    "CONTROL_SPEC_PATH",
    "DATA_SPEC_PATH",
    "DEFAULT_ERROR_CODES",
    "SPEC_DIR",
    "Fault",
    "PineconeEmulator",
    "RecordedRequest",
    "SpecViolation",
]

T = TypeVar("T")
JSON = dict[str, Any]

log = logging.getLogger(__name__)

SPEC_DIR = Path(__file__).resolve().parents[1] / "pinecone_spec"
CONTROL_SPEC_PATH = SPEC_DIR / "db_control_2026-04.oas.yaml"
DATA_SPEC_PATH = SPEC_DIR / "db_data_2026-04.oas.yaml"
#: The data plane lives on each index's own host; the emulator serves it under this prefix, so the
#: bot is given RESTORE_BOT_DATA_PLANE_URL = f"{emulator.base_url}{DATA_PLANE_PREFIX}/{{host}}".
DATA_PLANE_PREFIX = "/data"
API_VERSION = "2026-04"
VERSION_HEADER = "X-Pinecone-Api-Version"

#: Error code used in the body of an injected fault when the test does not pick one.
DEFAULT_ERROR_CODES: Mapping[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "PAYMENT_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    422: "UNPROCESSABLE_ENTITY",
    429: "RESOURCE_EXHAUSTED",
    500: "UNKNOWN",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Rules the spec states only in prose (descriptions of CreateIndexFromBackupRequest.name and IndexTags).
_INDEX_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$")
_INDEX_NAME_RULE = (
    "Resource name must be 1-45 characters long, start and end with an alphanumeric character, "
    "and consist only of lower case alphanumeric characters or '-'."
)
_TAG_KEY = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9;@_\-.+ ]{0,120}$")
#: Operations whose body carries a new resource's ``name`` subject to the naming rule.
_NAMED_RESOURCE_OPERATIONS = frozenset(
    {"create_index", "create_index_for_model", "create_index_from_backup_operation", "create_collection"}
)

_DESERIALIZE_PREFIX = "Failed to deserialize the JSON body into the target type"
_HOST_SUFFIX = "svc.aped-4627-b74a.pinecone.io"
_PENDING_FRACTION = 0.1  # share of a restore's duration spent in "Pending"


@dataclass
class RecordedRequest:
    """One request as the emulator received it (recorded before any validation or fault)."""

    method: str
    path: str
    query: dict[str, str]
    #: Header names are lower-cased so tests need not care about the client's spelling.
    headers: dict[str, str]
    #: Parsed JSON body, or None when there was no body or it was not valid JSON (see ``body``).
    json: Any
    #: ``time.monotonic()`` at arrival.
    time: float
    body: bytes = b""
    #: HTTP status answered, or None while in flight / when the connection was dropped.
    status: int | None = None
    #: The injected fault applied to this request, if any.
    fault: Fault | None = None


@dataclass
class Fault:
    """An injected failure; see :meth:`PineconeEmulator.inject`."""

    method: str
    path_glob: str
    status: int
    times: int
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    then_process: bool = False
    drop_connection: bool = False
    #: How many requests this fault has been applied to so far.
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        """True once the fault has been applied ``times`` times."""
        return self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        """fnmatch on both; note ``*`` also matches ``/``, so "/backups/*" covers sub-paths."""
        return fnmatch.fnmatchcase(method.upper(), self.method.upper()) and fnmatch.fnmatchcase(path, self.path_glob)


@dataclass(frozen=True)
class SpecViolation:
    """A response the emulator was about to send that the spec does not allow (an emulator bug)."""

    method: str
    path: str
    status: int
    problem: str
    body: Any


@dataclass
class _Reply:
    status: int
    body: JSON | None
    headers: dict[str, str] = field(default_factory=dict)
    #: Behaviour replies must use a status the spec documents for the operation.  Gate replies
    #: (unknown route, version header, query parameters) and injected faults are only required to
    #: carry a valid ErrorResponse, because the brief asks for statuses the spec does not list.
    documented: bool = True


@dataclass
class _Index:
    name: str
    index_id: str
    seq: int
    dimension: int | None
    metric: str
    host: str
    cloud: str
    region: str
    deletion_protection: str
    tags: dict[str, str] | None
    vector_type: str
    #: State of an index not created by a restore (restored indexes derive it from their job).
    state: str = "Ready"
    restore_job_id: str | None = None


@dataclass
class _RestoreJob:
    restore_job_id: str
    backup_id: str
    target_index_name: str
    target_index_id: str
    seq: int
    created_at: datetime
    #: Emulator-clock time at creation.
    started: float
    duration: float
    fail_at_percent: float | None
    fail_index_init: bool

    def progress(self, now: float) -> tuple[str, float, float | None]:
        """``(status, percent_complete, seconds from start to finish or None)`` at ``now``."""
        if math.isinf(self.duration):
            return "Pending", 0.0, None
        elapsed = max(0.0, now - self.started)
        pending = _PENDING_FRACTION * self.duration
        if self.fail_at_percent is not None:
            fail_after = pending + (self.duration - pending) * self.fail_at_percent / 100.0
            if elapsed >= fail_after:
                return "Failed", round(self.fail_at_percent, 1), fail_after
        if elapsed >= self.duration:
            return "Completed", 100.0, self.duration
        if elapsed < pending:
            return "Pending", 0.0, None
        percent = (elapsed - pending) / (self.duration - pending) * 100.0
        return "InProgress", min(round(percent, 1), 99.9), None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, code: str, message: str, **kwargs: Any) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}, "status": status}, **kwargs)


class PineconeEmulator(LoopbackServer):
    """In-process Pinecone control plane (backups, restore jobs, indexes) served over loopback HTTP."""

    def __init__(self, api_key: str = "pc-test-key", *, spec_path: Path = CONTROL_SPEC_PATH) -> None:
        super().__init__()
        self.api_key = api_key
        self.spec = OpenApiSpec.load(spec_path)
        if self.spec.version != API_VERSION:
            raise ValueError(f"{spec_path} is API version {self.spec.version}, expected {API_VERSION}")
        #: Default seconds a restore takes; per-backup overrides via :meth:`set_restore_duration`.
        self.restore_duration: float = 1.0
        #: Every request received, in arrival order.
        self.requests: list[RecordedRequest] = []
        #: Responses that did not match the spec (each was replaced by an HTTP 500).
        self.spec_violations: list[SpecViolation] = []
        #: Requests for operations the spec documents but the emulator does not implement (HTTP 500).
        self.unimplemented_calls: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._backups: dict[str, JSON] = {}
        self._backup_seq: dict[str, int] = {}
        self._indexes: dict[str, _Index] = {}
        self._jobs: dict[str, _RestoreJob] = {}
        self._durations: dict[str, float] = {}
        self._restore_failures: dict[str, float] = {}
        self._index_init_failures: set[str] = set()
        self._stats_overrides: dict[str, JSON] = {}
        self.data_spec = OpenApiSpec.load(DATA_SPEC_PATH)
        self._seq = 0
        self._clock_offset = 0.0
        self._notifier = ChangeNotifier(self._describe_recent, poll_interval=0.05)
        self._error_schema = self.spec.component("ErrorResponse")
        self._handlers: dict[str, Callable[[RecordedRequest, dict[str, str], dict[str, Any]], _Reply]] = {
            "list_indexes": self._list_indexes,
            "describe_index": self._describe_index,
            "delete_index": self._delete_index,
            "list_project_backups": self._list_project_backups,
            "list_index_backups": self._list_index_backups,
            "describe_backup": self._describe_backup,
            "create_index_from_backup_operation": self._create_index_from_backup,
            "list_restore_jobs": self._list_restore_jobs,
            "describe_restore_job": self._describe_restore_job,
        }

    # =====================================================================================
    # Test-facing API: seeding state
    # =====================================================================================

    def add_backup(
        self,
        backup_id: str | None = None,
        *,
        source_index_name: str = "prod-search",
        name: str = "nightly",
        status: str = "Ready",
        dimension: int = 1536,
        metric: str = "cosine",
        record_count: int = 120000,
        namespace_count: int = 3,
        size_bytes: int = 10_000_000,
        cloud: str = "aws",
        region: str = "us-east-1",
        tags: dict[str, str] | None = None,
        created_at: str | datetime | None = None,
        source_index_id: str | None = None,
        description: str | None = None,
    ) -> JSON:
        """Create a backup and return its BackupModel (a copy; use the setters to change it later)."""
        backup_id = backup_id or str(uuid.uuid4())
        if backup_id in self._backups:
            raise ValueError(f"backup {backup_id} already exists")
        if isinstance(created_at, datetime):
            created_at = _timestamp(created_at)
        model: JSON = {
            "backup_id": backup_id,
            "source_index_name": source_index_name,
            "source_index_id": source_index_id or str(uuid.uuid4()),
            "name": name,
            "status": status,
            "cloud": cloud,
            "region": region,
            "dimension": dimension,
            "metric": metric,
            "record_count": record_count,
            "namespace_count": namespace_count,
            "size_bytes": size_bytes,
            "created_at": created_at or _timestamp(datetime.now(UTC)),
        }
        if description is not None:
            model["description"] = description
        if tags is not None:
            model["tags"] = dict(tags)
        self._require_valid("BackupModel", model)
        self._backups[backup_id] = model
        self._backup_seq[backup_id] = self._next_seq()
        return copy.deepcopy(model)

    def set_backup_status(self, backup_id: str, status: str) -> None:
        """Change a backup's status (e.g. "Initializing" -> "Ready")."""
        self._backups[backup_id]["status"] = status

    def add_index(
        self,
        name: str,
        *,
        dimension: int | None = 1536,
        metric: str = "cosine",
        state: str = "Ready",
        deletion_protection: str = "disabled",
        tags: dict[str, str] | None = None,
        cloud: str = "aws",
        region: str = "us-east-1",
        vector_type: str = "dense",
    ) -> JSON:
        """Create an index directly (e.g. a name conflict or a restore source) and return its IndexModel."""
        if name in self._indexes:
            raise ValueError(f"index {name} already exists")
        if not _INDEX_NAME.match(name):
            raise ValueError(f"{name!r}: {_INDEX_NAME_RULE}")
        index = _Index(
            name=name,
            index_id=str(uuid.uuid4()),
            seq=self._next_seq(),
            dimension=dimension,
            metric=metric,
            host=self._new_host(name),
            cloud=cloud,
            region=region,
            deletion_protection=deletion_protection,
            tags=dict(tags) if tags is not None else None,
            vector_type=vector_type,
            state=state,
        )
        self._indexes[name] = index
        model = self._index_model(index)
        self._require_valid("IndexModel", model)
        return model

    def set_restore_duration(self, backup_id: str, seconds: float) -> None:
        """Restores started later from ``backup_id`` take ``seconds`` (``math.inf``: never finish)."""
        if seconds < 0 or math.isnan(seconds):
            raise ValueError("duration must be >= 0")
        self._durations[backup_id] = seconds

    def fail_restore(self, backup_id: str, at_percent: float = 50.0) -> None:
        """Restores started later from ``backup_id`` fail on reaching ``at_percent``.

        The job ends "Failed" and its index "InitializationFailed".  Like all behaviour switches this
        is captured when a restore starts, so a job never changes its past.
        """
        if not 0.0 <= at_percent <= 100.0:
            raise ValueError("at_percent must be within 0..100")
        self._restore_failures[backup_id] = at_percent

    def fail_index_init(self, backup_id: str) -> None:
        """Restores started later from ``backup_id`` complete, but their index ends "InitializationFailed"."""
        self._index_init_failures.add(backup_id)

    def start_restore(
        self,
        backup_id: str,
        index_name: str,
        *,
        tags: dict[str, str] | None = None,
        deletion_protection: str | None = None,
    ) -> JSON:
        """Start a restore exactly as ``POST /backups/{id}/create-index`` would, without HTTP.

        Useful to seed "a restore is already running" situations.  Returns the
        CreateIndexFromBackupResponse body; raises ``ValueError`` with the API error otherwise.
        """
        body: JSON = {"name": index_name}
        if tags is not None:
            body["tags"] = tags
        if deletion_protection is not None:
            body["deletion_protection"] = deletion_protection
        validated = self._validate_body_value(self.spec.operation("create_index_from_backup_operation"), body)
        reply = validated if isinstance(validated, _Reply) else self._start_restore(backup_id, validated)
        if reply.status != 202 or reply.body is None:
            raise ValueError(f"restore not started: HTTP {reply.status} {reply.body}")
        return reply.body

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward, so restores progress without the test waiting."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._clock_offset += seconds

    # =====================================================================================
    # Test-facing API: fault injection
    # =====================================================================================

    def inject(
        self,
        method: str,
        path_glob: str,
        *,
        status: int,
        times: int = 1,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        then_process: bool = False,
        drop_connection: bool = False,
    ) -> Fault:
        """Make the next ``times`` requests matching ``method`` and ``path_glob`` (fnmatch) misbehave.

        * ``status`` >= 400: after ``delay`` seconds answer ``status`` with an ErrorResponse body
          (``code`` defaults per :data:`DEFAULT_ERROR_CODES`) and ``Retry-After`` if given.
        * ``status=0``: only be slow -- sleep ``delay`` seconds, then process normally.
        * ``then_process=True``: apply the request for real (create the index...), then sleep and
          answer with the fault anyway -- an ambiguous outcome (request applied, response lost).
        * ``drop_connection=True``: close the connection without any response (after processing
          the request only if ``then_process``); ``status`` is then irrelevant.

        Faults are consulted in injection order before any validation, the way a proxy or an
        overloaded server fails.  Returns the :class:`Fault`, whose ``hits`` counts applications.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status != 0 and not 400 <= status <= 599:
            raise ValueError(f"status must be 0 (slow only) or an HTTP error status, not {status}")
        fault = Fault(
            method=method,
            path_glob=path_glob,
            status=status,
            times=times,
            code=code,
            message=message,
            retry_after=retry_after,
            delay=delay,
            then_process=then_process,
            drop_connection=drop_connection,
        )
        if status >= 400:
            # Fail at injection time if the test asks for an error body the spec would not allow
            # (e.g. a misspelt error code), rather than when the bot is mid-flight.
            self._require_valid("ErrorResponse", self._fault_reply(fault).body)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget all injected faults, used or not."""
        self._faults.clear()

    # =====================================================================================
    # Test-facing API: inspection
    # =====================================================================================

    def calls(self, method: str = "*", path_glob: str = "*") -> list[RecordedRequest]:
        """Recorded requests whose method and path match (fnmatch, method case-insensitive)."""
        return [
            r
            for r in self.requests
            if fnmatch.fnmatchcase(r.method, method.upper()) and fnmatch.fnmatchcase(r.path, path_glob)
        ]

    @property
    def create_index_calls(self) -> list[RecordedRequest]:
        """Every ``POST /backups/*/create-index`` received, including rejected and faulted ones."""
        return self.calls("POST", "/backups/*/create-index")

    def backup(self, backup_id: str) -> JSON | None:
        """Current BackupModel of ``backup_id``, or None."""
        model = self._backups.get(backup_id)
        return copy.deepcopy(model) if model is not None else None

    def index(self, name: str) -> JSON | None:
        """Current IndexModel of index ``name`` (computed at the emulator's current time), or None."""
        index = self._indexes.get(name)
        return self._index_model(index) if index is not None else None

    def indexes(self) -> list[JSON]:
        """All current IndexModels, oldest first (the order of ``GET /indexes``)."""
        return [self._index_model(i) for i in sorted(self._indexes.values(), key=lambda i: i.seq)]

    def restore_job(self, job_id: str) -> JSON | None:
        """Current RestoreJobModel of ``job_id``, or None."""
        job = self._jobs.get(job_id)
        return self._job_model(job) if job is not None else None

    def restore_jobs(self, backup_id: str | None = None) -> list[JSON]:
        """Current RestoreJobModels, newest first, optionally only those restoring ``backup_id``."""
        jobs = sorted(self._jobs.values(), key=lambda j: j.seq, reverse=True)
        return [self._job_model(j) for j in jobs if backup_id is None or j.backup_id == backup_id]

    async def wait_for(self, predicate: Callable[[], T | bool | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109 - a deadline for the condition, not for I/O
        """Await the first truthy ``predicate()``; re-checked on every request and every 50 ms.

        The periodic re-check exists because restore progress depends on time alone.
        Raises ``AssertionError`` with the recent requests on timeout.
        """
        return await self._notifier.wait_for(predicate, timeout)

    def assert_no_spec_violations(self) -> None:
        """Raise if the emulator ever produced an off-spec response or hit an unimplemented route."""
        problems = [f"{v.method} {v.path} -> {v.status}: {v.problem}" for v in self.spec_violations]
        problems += [f"{r.method} {r.path}: not implemented by the emulator" for r in self.unimplemented_calls]
        if problems:
            raise AssertionError("Pinecone emulator is unfaithful to the spec:\n  " + "\n  ".join(problems))

    # =====================================================================================
    # HTTP plumbing
    # =====================================================================================

    @property
    def data_plane_url(self) -> str:
        """What to give the bot as RESTORE_BOT_DATA_PLANE_URL."""
        return f"{self.base_url}{DATA_PLANE_PREFIX}/{{host}}"

    def set_index_stats(self, name: str, **stats: Any) -> None:
        """Override what describe_index_stats reports for an index (e.g. totalVectorCount=1) to fake a bad restore."""
        self._stats_overrides[name] = stats

    def _build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(DATA_PLANE_PREFIX + "/{host}/describe_index_stats", self._handle_index_stats)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle_index_stats(self, request: web.Request) -> web.StreamResponse:
        """POST /describe_index_stats on an index's host (db_data spec, operation describeIndexStats)."""
        raw = await request.read()
        record = RecordedRequest(
            method="POST",
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=json.loads(raw) if raw else None,
            time=time.monotonic(),
            body=raw,
        )
        self.requests.append(record)
        await self._notifier.notify()
        status, body = self._index_stats(record, request.match_info["host"])
        schema = "IndexDescription" if status == 200 else "rpcStatus"
        errors = self.data_spec.errors(self.data_spec.component(schema), body)
        if errors:
            problem = self.data_spec.describe(errors)
            self.spec_violations.append(SpecViolation("POST", record.path, status, problem, body))
            status, body = 500, {"code": 13, "message": f"Pinecone emulator bug: {problem}", "details": []}
        record.status = status
        await self._notifier.notify()
        return web.json_response(body, status=status, headers={VERSION_HEADER: API_VERSION})

    def _index_stats(self, record: RecordedRequest, host: str) -> tuple[int, JSON]:
        if record.headers.get("api-key") != self.api_key:
            return 401, {"code": 16, "message": "Invalid API key.", "details": []}
        if record.headers.get(VERSION_HEADER.lower()) != API_VERSION:
            return 400, {"code": 3, "message": f"{VERSION_HEADER} must be {API_VERSION}", "details": []}
        if not isinstance(record.json, dict):
            return 400, {"code": 3, "message": "The request body must be a JSON object.", "details": []}
        index = next((i for i in self._indexes.values() if i.host == host), None)
        if index is None:
            return 404, {"code": 5, "message": f"No index at host {host}.", "details": []}
        records = 0
        job = self._jobs.get(index.restore_job_id or "")
        if job is not None:
            records = int(self._backups.get(job.backup_id, {}).get("record_count") or 0)
        body: JSON = {
            "namespaces": {"": {"vectorCount": records}},
            "dimension": index.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": records,
            "metric": index.metric,
            "vectorType": index.vector_type,
        }
        body.update(self._stats_overrides.get(index.name, {}))
        return 200, body

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        record = RecordedRequest(
            method=request.method.upper(),
            path=request.path,
            query={k: v for k, v in request.query.items()},
            headers={k.lower(): v for k, v in request.headers.items()},
            json=parsed,
            time=time.monotonic(),
            body=raw,
        )
        self.requests.append(record)
        # Claim a fault before the first await so concurrent requests consume faults in arrival order.
        fault = next((f for f in self._faults if not f.exhausted and f.matches(record.method, record.path)), None)
        if fault is not None:
            fault.hits += 1
            record.fault = fault
        await self._notifier.notify()

        if fault is None or (fault.status == 0 and not fault.drop_connection):
            if fault is not None:
                await asyncio.sleep(fault.delay)
            reply = self._process(record)
        else:
            if fault.then_process:
                self._process(record)  # applied for real; its answer is "lost"
            await asyncio.sleep(fault.delay)
            if fault.drop_connection:
                await self._notifier.notify()
                if request.transport is not None:
                    request.transport.close()
                # aiohttp treats a cancelled handler as a lost connection and sends nothing.
                raise asyncio.CancelledError
            reply = self._fault_reply(fault)
            # Faults are exempt from "status must be documented" but not from the body shape.
            reply = self._checked(record, None, reply)

        record.status = reply.status
        await self._notifier.notify()
        headers = {VERSION_HEADER: API_VERSION, **reply.headers}
        if reply.body is None:
            return web.Response(status=reply.status, headers=headers)
        return web.json_response(reply.body, status=reply.status, headers=headers)

    def _fault_reply(self, fault: Fault) -> _Reply:
        code = fault.code or DEFAULT_ERROR_CODES.get(fault.status, "UNKNOWN")
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Error"
        message = fault.message or f"{phrase} (fault injected by the Pinecone emulator)"
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            value = fault.retry_after
            headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
        return _error(fault.status, code, message, headers=headers, documented=False)

    def _process(self, record: RecordedRequest) -> _Reply:
        """Route, authenticate, validate and dispatch one request; the reply is spec-checked."""
        routed = self.spec.route(record.method, record.path)
        if routed is None:
            reply = _error(
                404,
                "NOT_FOUND",
                f"No route for {record.method} {record.path} in the {self.spec.version} control-plane API.",
                documented=False,
            )
            return self._checked(record, None, reply)
        op, path_params = routed
        gated = self._gate(record, op)
        if isinstance(gated, _Reply):
            return self._checked(record, op, gated)
        query, body = gated
        handler = self._handlers.get(op.operation_id)
        if handler is None:
            self.unimplemented_calls.append(record)
            reply = _error(
                500, "UNKNOWN", f"The emulator does not implement {op.operation_id} ({op.method} {op.template})."
            )
        else:
            reply = handler(record, path_params, {"query": query, "body": body})
        return self._checked(record, op, reply)

    def _gate(self, record: RecordedRequest, op: Operation) -> _Reply | tuple[dict[str, Any], Any]:
        """Checks every operation shares: API key, headers, query parameters, JSON body."""
        if record.headers.get("api-key") != self.api_key:
            # 401 is documented for every operation, hence a behaviour reply.
            return _error(401, "UNAUTHENTICATED", "Invalid API key.")
        query: dict[str, Any] = {}
        for param in op.parameters:
            if param.location == "header":
                value = record.headers.get(param.name.lower())
                if value is None:
                    if param.required:
                        return _error(
                            400, "INVALID_ARGUMENT", f"Missing required header `{param.name}`.", documented=False
                        )
                    continue
                if param.name.lower() == VERSION_HEADER.lower() and value != self.spec.version:
                    return _error(
                        400,
                        "INVALID_ARGUMENT",
                        f"Unsupported API version {value!r} in `{VERSION_HEADER}`; "
                        f"this server speaks {self.spec.version}.",
                        documented=False,
                    )
            elif param.location == "query":
                raw = record.query.get(param.name)
                if raw is None:
                    if param.required:
                        return _error(
                            400, "INVALID_ARGUMENT", f"Missing query parameter `{param.name}`.", documented=False
                        )
                    if param.default is not None:
                        query[param.name] = param.default
                    continue
                value_or_error = self._coerce_query(param.name, param.schema_type, raw)
                if isinstance(value_or_error, _Reply):
                    return value_or_error
                if param.schema is not None and (errors := self.spec.errors(param.schema, value_or_error)):
                    return _error(
                        400,
                        "INVALID_ARGUMENT",
                        f"Invalid value for query parameter `{param.name}`: {errors[0].message}.",
                        documented=False,
                    )
                query[param.name] = value_or_error
        body: Any = None
        if op.request_body is not None:
            body_or_error = self._validate_body(record, op)
            if isinstance(body_or_error, _Reply):
                return body_or_error
            body = body_or_error
        return query, body

    @staticmethod
    def _coerce_query(name: str, schema_type: str | None, raw: str) -> Any:
        if schema_type == "integer":
            if not re.fullmatch(r"[+-]?\d+", raw):
                return _error(
                    400,
                    "INVALID_ARGUMENT",
                    f"Invalid value for query parameter `{name}`: expected an integer, got {raw!r}.",
                    documented=False,
                )
            return int(raw)
        if schema_type == "boolean":
            if raw not in {"true", "false"}:
                return _error(
                    400,
                    "INVALID_ARGUMENT",
                    f"Invalid value for query parameter `{name}`: expected true or false, got {raw!r}.",
                    documented=False,
                )
            return raw == "true"
        return raw

    def _validate_body(self, record: RecordedRequest, op: Operation) -> _Reply | Any:
        """Parse the JSON body; 422 when it cannot be deserialised, like Pinecone's serde layer."""
        if not record.body:
            if op.request_body_required:
                return _error(
                    422, "UNPROCESSABLE_ENTITY", f"{_DESERIALIZE_PREFIX}: EOF while parsing a value at line 1 column 0"
                )
            return None
        content_type = record.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _error(422, "UNPROCESSABLE_ENTITY", "Expected request with `Content-Type: application/json`.")
        try:
            body = json.loads(record.body)
        except ValueError as exc:
            return _error(422, "UNPROCESSABLE_ENTITY", f"{_DESERIALIZE_PREFIX}: {exc}")
        return self._validate_body_value(op, body)

    def _validate_body_value(self, op: Operation, body: Any) -> _Reply | Any:
        """422 for shape errors (wrong type, missing field, unknown enum value), 400 for bad values."""
        assert op.request_body is not None
        errors = self.spec.errors(op.request_body, body)
        shape_errors = [e for e in errors if e.validator in DESERIALIZATION_KEYWORDS]
        if shape_errors:
            return _error(422, "UNPROCESSABLE_ENTITY", f"{_DESERIALIZE_PREFIX}: {self.spec.describe(shape_errors)}")
        prose = self._prose_rule_violation(op, body)
        if prose is not None:
            return _error(400, "INVALID_ARGUMENT", prose)
        if errors:
            return _error(400, "INVALID_ARGUMENT", f"Invalid request body: {self.spec.describe(errors)}")
        return body

    @staticmethod
    def _prose_rule_violation(op: Operation, body: Any) -> str | None:
        """Rules the spec only states in descriptions: resource names and tags."""
        if not isinstance(body, dict):
            return None
        if op.operation_id in _NAMED_RESOURCE_OPERATIONS and isinstance(body.get("name"), str):
            name = body["name"]
            if not _INDEX_NAME.match(name):
                return f"Invalid index name {name!r}. {_INDEX_NAME_RULE}"
        tags = body.get("tags")
        if isinstance(tags, dict):
            for key, value in tags.items():
                if not _TAG_KEY.match(key):
                    return (
                        f"Invalid tag key {key!r}: keys must be 1-80 characters and contain only "
                        "alphanumeric characters, '_' or '-'."
                    )
                if isinstance(value, str) and not _TAG_VALUE.match(value):
                    return (
                        f"Invalid value for tag {key!r}: values must be at most 120 characters and contain "
                        "only alphanumeric characters, ';', '@', '_', '-', '.', '+' or ' '."
                    )
        return None

    def _checked(self, record: RecordedRequest, op: Operation | None, reply: _Reply) -> _Reply:
        """Validate an outgoing reply against the spec; an off-spec reply becomes a loud 500."""
        problem = self._response_problem(op, reply)
        if problem is None:
            return reply
        violation = SpecViolation(record.method, record.path, reply.status, problem, reply.body)
        self.spec_violations.append(violation)
        log.error("Pinecone emulator spec violation: %s", violation)
        return _error(
            500,
            "INTERNAL",
            f"Pinecone emulator bug: its {reply.status} response violates the spec ({problem}).",
        )

    def _response_problem(self, op: Operation | None, reply: _Reply) -> str | None:
        if reply.body is not None and reply.status >= 400:
            error = reply.body.get("error")
            if reply.body.get("status") != reply.status:
                return f"error body status {reply.body.get('status')!r} != HTTP status {reply.status}"
            if not isinstance(error, dict):
                return "error body has no error object"
        if op is None or not reply.documented:
            if reply.body is None:
                return "error replies need an ErrorResponse body"
            errors = self.spec.errors(self._error_schema, reply.body)
            return f"not an ErrorResponse: {self.spec.describe(errors)}" if errors else None
        status = str(reply.status)
        key = next((k for k in (status, f"{status[0]}XX", "default") if k in op.responses), None)
        if key is None:
            return f"status {status} is not documented for {op.method} {op.template}"
        schema = op.responses[key]
        if schema is None:
            return None if reply.body is None else f"spec documents no body for {status}, but one was sent"
        if reply.body is None:
            return f"spec documents a JSON body for {status}, but none was sent"
        errors = self.spec.errors(schema, reply.body)
        return f"body does not match the {status} schema: {self.spec.describe(errors)}" if errors else None

    def _require_valid(self, component: str, instance: Any) -> None:
        errors = self.spec.errors(self.spec.component(component), instance)
        if errors:
            raise ValueError(f"not a valid {component}: {self.spec.describe(errors)}")

    def _describe_recent(self) -> str:
        lines = [f"  requests received: {len(self.requests)}; the last ones:"]
        for r in self.requests[-25:]:
            fault = f" [fault {r.fault.status}]" if r.fault is not None else ""
            query = f"?{'&'.join(f'{k}={v}' for k, v in r.query.items())}" if r.query else ""
            lines.append(f"    {r.method} {r.path}{query} -> {r.status}{fault}")
        lines.append(f"  indexes: {[(i['name'], i['status']['state']) for i in self.indexes()]}")
        jobs = [(j["target_index_name"], j["status"], j["percent_complete"]) for j in self.restore_jobs()]
        lines.append(f"  restore jobs (newest first): {jobs[:10]}")
        return "\n".join(lines)

    # =====================================================================================
    # Operations
    # =====================================================================================

    def _list_indexes(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        return _Reply(200, {"indexes": self.indexes()})

    def _describe_index(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        model = self.index(path["index_name"])
        if model is None:
            return _error(404, "NOT_FOUND", f"Index {path['index_name']} not found.")
        return _Reply(200, model)

    def _delete_index(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        index = self._indexes.get(path["index_name"])
        if index is None:
            return _error(404, "NOT_FOUND", f"Index {path['index_name']} not found.")
        if index.deletion_protection == "enabled":
            return _error(
                403,
                "FORBIDDEN",
                "Deletion protection is enabled for this index. Disable deletion protection before retrying.",
            )
        del self._indexes[index.name]
        return _Reply(202, None)

    def _list_project_backups(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        entries = [(self._backup_seq[b], copy.deepcopy(m)) for b, m in self._backups.items()]
        return self._paginate("backups", entries, args["query"])

    def _list_index_backups(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        name = path["index_name"]
        entries = [
            (self._backup_seq[b], copy.deepcopy(m)) for b, m in self._backups.items() if m["source_index_name"] == name
        ]
        if not entries and name not in self._indexes:
            return _error(404, "NOT_FOUND", f"Index {name} not found.")
        return self._paginate(f"backups:{name}", entries, args["query"])

    def _describe_backup(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        model = self.backup(path["backup_id"])
        if model is None:
            return _error(404, "NOT_FOUND", f"Backup {path['backup_id']} not found.")
        return _Reply(200, model)

    def _create_index_from_backup(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        return self._start_restore(path["backup_id"], args["body"])

    def _start_restore(self, backup_id: str, body: JSON) -> _Reply:
        """Create the index and its restore job; ``body`` is an already validated request body."""
        backup = self._backups.get(backup_id)
        if backup is None:
            return _error(404, "NOT_FOUND", f"Backup {backup_id} not found.")
        if backup["status"] != "Ready":
            return _error(400, "FAILED_PRECONDITION", f"Backup {backup_id} is not ready (status: {backup['status']}).")
        name = body["name"]
        if name in self._indexes:
            return _error(409, "ALREADY_EXISTS", f"Resource {name} already exists.")
        index = _Index(
            name=name,
            index_id=str(uuid.uuid4()),
            seq=self._next_seq(),
            dimension=backup.get("dimension"),
            metric=backup.get("metric", "cosine"),
            host=self._new_host(name),
            cloud=backup["cloud"],
            region=backup["region"],
            deletion_protection=body.get("deletion_protection", "disabled"),
            tags=dict(body["tags"]) if body.get("tags") is not None else None,
            vector_type="dense",
        )
        job = _RestoreJob(
            restore_job_id=str(uuid.uuid4()),
            backup_id=backup_id,
            target_index_name=name,
            target_index_id=index.index_id,
            seq=self._next_seq(),
            created_at=datetime.now(UTC),
            started=self._now(),
            duration=self._durations.get(backup_id, self.restore_duration),
            fail_at_percent=self._restore_failures.get(backup_id),
            fail_index_init=backup_id in self._index_init_failures,
        )
        index.restore_job_id = job.restore_job_id
        self._indexes[name] = index
        self._jobs[job.restore_job_id] = job
        return _Reply(202, {"restore_job_id": job.restore_job_id, "index_id": index.index_id})

    def _list_restore_jobs(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        entries = [(j.seq, self._job_model(j)) for j in self._jobs.values()]
        return self._paginate("restore-jobs", entries, args["query"])

    def _describe_restore_job(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        model = self.restore_job(path["job_id"])
        if model is None:
            return _error(404, "NOT_FOUND", f"Restore job {path['job_id']} not found.")
        return _Reply(200, model)

    # =====================================================================================
    # Models and helpers
    # =====================================================================================

    def _paginate(self, kind: str, entries: list[tuple[int, JSON]], query: dict[str, Any]) -> _Reply:
        """Newest-first keyset pagination with an opaque (base64 JSON) ``paginationToken``.

        Keyset rather than offset so that items created between two page fetches neither repeat
        nor disappear.  On the last page ``pagination`` is omitted: PaginationResponse requires
        ``next`` and is not nullable, so ``null`` would be off-spec.
        """
        limit: int = query.get("limit", 10)
        entries.sort(key=lambda e: e[0], reverse=True)
        token = query.get("paginationToken")
        if token is not None:
            before = self._decode_token(kind, token)
            if before is None:
                return _error(400, "INVALID_ARGUMENT", f"Invalid paginationToken {token!r}.", documented=False)
            entries = [e for e in entries if e[0] < before]
        page, rest = entries[:limit], entries[limit:]
        body: JSON = {"data": [model for _, model in page]}
        if rest:
            body["pagination"] = {"next": self._encode_token(kind, page[-1][0])}
        return _Reply(200, body)

    @staticmethod
    def _encode_token(kind: str, before: int) -> str:
        return base64.b64encode(json.dumps({"kind": kind, "before": before}).encode()).decode()

    @staticmethod
    def _decode_token(kind: str, token: str) -> int | None:
        try:
            data = json.loads(base64.b64decode(token, validate=True))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict) or data.get("kind") != kind or not isinstance(data.get("before"), int):
            return None
        before: int = data["before"]
        return before

    def _index_model(self, index: _Index) -> JSON:
        state, ready = index.state, index.state in {"Ready", "ScalingUp", "ScalingDown"}
        if index.restore_job_id is not None:
            job = self._jobs[index.restore_job_id]
            status, _, _ = job.progress(self._now())
            if status == "Completed":
                state, ready = ("InitializationFailed", False) if job.fail_index_init else ("Ready", True)
            elif status == "Failed":
                state, ready = "InitializationFailed", False
            else:
                state, ready = "Initializing", False
        model: JSON = {
            "name": index.name,
            "metric": index.metric,
            "host": index.host,
            "deletion_protection": index.deletion_protection,
            "spec": {
                "serverless": {
                    "cloud": index.cloud,
                    "region": index.region,
                    "read_capacity": {"mode": "OnDemand", "status": {"state": "Ready"}},
                }
            },
            "status": {"ready": ready, "state": state},
            "vector_type": index.vector_type,
        }
        if index.dimension is not None:
            model["dimension"] = index.dimension
        if index.tags is not None:
            model["tags"] = dict(index.tags)
        return model

    def _job_model(self, job: _RestoreJob) -> JSON:
        status, percent, finished_after = job.progress(self._now())
        model: JSON = {
            "restore_job_id": job.restore_job_id,
            "backup_id": job.backup_id,
            "target_index_name": job.target_index_name,
            "target_index_id": job.target_index_id,
            "status": status,
            "created_at": _timestamp(job.created_at),
            "percent_complete": percent,
        }
        if finished_after is not None:
            model["completed_at"] = _timestamp(job.created_at + timedelta(seconds=finished_after))
        return model

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @staticmethod
    def _new_host(name: str) -> str:
        return f"{name}-{secrets.token_hex(4)[:7]}.{_HOST_SUFFIX}"
