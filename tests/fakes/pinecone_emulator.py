"""A Pinecone control-plane emulator whose wire format is checked against the vendored OpenAPI spec.

Why an emulator instead of mocks: the bot under test runs in its own process and talks HTTP, so
the only faithful seam is the network.  Why spec-driven: a hand-written fake silently drifts from
the real API, and tests then pass against behaviour that production never exhibits.  Here every
request is routed and validated with the schemas in ``tests/pinecone_spec/db_control_2026-07.oas.yaml``
and every response the emulator produces is validated against the schema documented for its
status code.  A response that does not match is an emulator bug: it is recorded in
:attr:`PineconeEmulator.spec_violations` and answered with HTTP 500, so it cannot go unnoticed.

Behaviour that the spec only states in prose (index-name and tag rules) is enforced explicitly.
Restores progress with (emulator) time, as API 2026-07 describes them: a job is ``Pending``, with no
``percent_complete``, until it is ``Completed`` (then ``percent_complete`` is 100), ``Failed`` or
``Cancelled``; its index is ``Initializing`` until then and ``Ready`` after.  Tests can make restores
fail, be cancelled, take forever, or jump ahead in time with :meth:`PineconeEmulator.advance`, and can
inject faults (HTTP errors, slowness, lost responses, dropped connections) into any route.

**As strict as the service, by default.**  Where the spec leaves the service room, the emulator uses it
(:class:`Realism`; every field can be set per test): restore jobs are listed in no particular order (a
seeded shuffle, not newest first), a later page repeats the item that ended the page before, a listing
now and then ends early (no ``pagination`` although more exist) and never shows the jobs of a deleted
index; a new job's ``created_at`` is null for a while and ``describe_restore_job`` answers 404 right
after it was created; an index's ``host`` is empty while it initialises (the spec makes ``host`` a
required string, so it is never null here); a backup reports no counts or schema until it is Ready;
``describe_index_stats`` counts a restored index's records only some time after it is Ready; 401 is
plain text; create-index from a backup that is not Ready is 412.  Tests that need the old regular
behaviour ask for it: ``pinecone.realism = Realism.regular()``.

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
import random
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, TypeVar

from aiohttp import web

from tests.fakes._support import ChangeNotifier, LoopbackServer
from tests.fakes.openapi import DESERIALIZATION_KEYWORDS, OpenApiSpec, Operation, SchemaRef

__all__ = [
    "API_VERSION",
    "CONTROL_SPEC_PATH",
    "DATA_SPEC_PATH",
    "DEFAULT_ERROR_CODES",
    "SPEC_DIR",
    "Fault",
    "ListingOrder",
    "PineconeEmulator",
    "Realism",
    "RecordedRequest",
    "SpecViolation",
]

T = TypeVar("T")
JSON = dict[str, Any]

log = logging.getLogger(__name__)

SPEC_DIR = Path(__file__).resolve().parents[1] / "pinecone_spec"
CONTROL_SPEC_PATH = SPEC_DIR / "db_control_2026-07.oas.yaml"
DATA_SPEC_PATH = SPEC_DIR / "db_data_2026-07.oas.yaml"
#: The data plane lives on each index's own host; the emulator serves it under this prefix, so the
#: bot is given RESTORE_BOT_DATA_PLANE_URL = f"{emulator.base_url}{DATA_PLANE_PREFIX}/{{host}}".
DATA_PLANE_PREFIX = "/data"
API_VERSION = "2026-07"
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
    503: "SERVICE_UNAVAILABLE",
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
#: The plain-text body of a 401 in 2026-07 (UnauthorizedMessage); not an ErrorResponse.
_UNAUTHORIZED = "Invalid API key"

ListingOrder = Literal["newest_first", "oldest_first", "shuffled"]


@dataclass
class Realism:
    """What the service may do that the spec allows, and how much of it the emulator does.

    The defaults are as strict as the real service (see the module docstring); :meth:`regular` is the
    old, kind behaviour, for tests about something else that need it.  Times are emulator seconds
    (they move with :meth:`PineconeEmulator.advance`).
    """

    #: Order of ``GET /restore-jobs``: the spec promises none.  "shuffled" is a seeded shuffle, fixed per job.
    listing_order: ListingOrder = "shuffled"
    #: Each later page of restore jobs starts with the item that ended the page before (pages overlap).
    repeat_across_pages: bool = True
    #: Share of restore-job pages that answer without ``pagination`` although more exist (seeded).
    stop_early: float = 0.05
    #: The last page says ``"pagination": null`` (True) or leaves it out (False); the spec allows both.
    null_pagination: bool = True
    #: Seconds a new restore job's ``created_at`` stays null.
    created_at_null_for: float = 1.0
    #: Seconds ``describe_restore_job`` answers 404 for a job just created.
    not_found_after_create: float = 0.5
    #: Seconds a new restore job is left out of ``GET /restore-jobs``.
    unlisted_after_create: float = 0.0
    #: Restore jobs whose index was deleted are left out of ``GET /restore-jobs`` (the SDK warns of this).
    hide_jobs_of_deleted_indexes: bool = True
    #: An index's ``host`` is empty until it is Ready (the spec requires a string, so never null).
    empty_host_while_initializing: bool = True
    #: A backup reports no counts and no schema until it is Ready.
    backup_facts_when_ready: bool = True
    #: Seconds after an index is Ready before describe_index_stats counts all its records (rising from 0).
    count_lag: float = 1.0
    #: Order of ``GET /indexes/{name}/backups`` and ``GET /backups``: the spec promises none.  "shuffled" is
    #: seeded, fixed per backup; later pages repeat the item that ended the page before when
    #: ``repeat_across_pages`` is on.
    backup_listing_order: ListingOrder = "shuffled"
    #: Seeds the shuffle and the early stops, so a test sees the same service every run.
    seed: int = 13

    @classmethod
    def regular(cls) -> Realism:
        """Newest first, no overlaps or early ends, every field set at once, counts exact at Ready."""
        return cls(
            listing_order="newest_first",
            backup_listing_order="newest_first",
            repeat_across_pages=False,
            stop_early=0.0,
            null_pagination=False,
            created_at_null_for=0.0,
            not_found_after_create=0.0,
            unlisted_after_create=0.0,
            empty_host_while_initializing=False,
            backup_facts_when_ready=False,
            count_lag=0.0,
        )


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
    #: A plain-text body (a 401 in 2026-07) instead of JSON.
    text: str | None = None
    #: What to check against the spec when it differs from ``body``: the body without the items a test
    #: deliberately made malformed (:meth:`PineconeEmulator.malform_restore_job`).
    checked_body: JSON | None = None


@dataclass
class _Index:
    name: str
    index_id: str
    seq: int
    host: str
    cloud: str
    region: str
    deletion_protection: str
    tags: dict[str, str] | None
    schema: JSON
    #: State of an index not created by a restore (restored indexes derive it from their job).
    state: str = "Ready"
    restore_job_id: str | None = None
    source_backup_id: str | None = None


@dataclass
class _Incarnation:
    """One index that had a name: the active one, or one deleted since (its backups outlive it)."""

    index_id: str
    #: When it was deleted; None while it is active, or for an index known only from its backups (it was
    #: deleted before the emulator started: it is then said to be deleted when its last backup was taken).
    deleted_at: datetime | None = None


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
    #: Position in a shuffled listing (fixed per job, from the seeded generator).
    rank: float = 0.0
    #: Emulator-clock time it was cancelled, if it was.
    cancelled_at: float | None = None
    #: A status a test set instead of the one time gives (e.g. a value Pinecone may add later).
    status_override: str | None = None

    def progress(self, now: float) -> tuple[str, float | None]:
        """``(status, seconds from start to finish or None)`` at ``now``: Pending until it ends."""
        if self.status_override is not None:
            return self.status_override, None
        elapsed = max(0.0, now - self.started)
        ends: list[tuple[float, str]] = []
        if self.cancelled_at is not None:
            ends.append((max(0.0, self.cancelled_at - self.started), "Cancelled"))
        if not math.isinf(self.duration):
            if self.fail_at_percent is not None:
                ends.append((self.duration * self.fail_at_percent / 100.0, "Failed"))
            ends.append((self.duration, "Completed"))
        for at, status in sorted(ends):
            if elapsed >= at:
                return status, at
        return "Pending", None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, code: str, message: str, **kwargs: Any) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}, "status": status}, **kwargs)


def _vectors_schema(dimension: int | None, metric: str, vector_type: str) -> JSON:
    """The schema 2026-07 reports for an index served by the vectors API: a dense one reports both reserved
    fields, `_values` and `_sparse_values`; a sparse one only `_sparse_values`."""
    sparse: JSON = {"type": "sparse_vector"}
    if vector_type == "sparse" or dimension is None:
        return {"fields": {"_sparse_values": sparse}}
    return {
        "fields": {
            "_values": {"type": "dense_vector", "dimension": dimension, "metric": metric},
            "_sparse_values": sparse,
        }
    }


def _dense_field(schema: JSON) -> JSON | None:
    """The one dense vector field of a schema, if there is exactly one."""
    dense = [f for f in schema.get("fields", {}).values() if f.get("type") == "dense_vector"]
    return dense[0] if len(dense) == 1 else None


class PineconeEmulator(LoopbackServer):
    """In-process Pinecone control plane (backups, restore jobs, indexes) served over loopback HTTP."""

    def __init__(
        self, api_key: str = "pc-test-key", *, spec_path: Path = CONTROL_SPEC_PATH, realism: Realism | None = None
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.realism = realism or Realism()
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
        #: Every index that ever had each name, oldest first (the active one included).
        self._incarnations: dict[str, list[_Incarnation]] = {}
        self._jobs: dict[str, _RestoreJob] = {}
        self._durations: dict[str, float] = {}
        self._restore_failures: dict[str, float] = {}
        self._index_init_failures: set[str] = set()
        self._stats_overrides: dict[str, JSON] = {}
        #: When each index became Ready (emulator clock), for the count lag of describe_index_stats.
        self._ready_since: dict[str, float] = {}
        #: Restore jobs a test made malformed: the fields their model gets instead.
        self._malformed: dict[str, JSON] = {}
        #: Enum values a test used beyond the spec's x-enum lists (Pinecone's enums are open: it may add values).
        self.extra_enum_values: set[str] = set()
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

    @property
    def realism(self) -> Realism:
        """How strict the emulator is (see :class:`Realism`); set it before the bot asks anything."""
        return self._realism

    @realism.setter
    def realism(self, value: Realism) -> None:
        self._realism = value
        self._random = random.Random(value.seed)

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
        vector_type: str = "dense",
        schema: JSON | None = None,
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
        """Create a backup and return its full BackupModel (a copy; use the setters to change it later).

        Its ``schema`` is that of a vectors-API index of ``dimension`` and ``metric`` (``vector_type``
        "sparse": a sparse one), as 2026-07 reports it, unless ``schema`` is given.  A ``status`` outside
        the spec's list is taken as a value Pinecone may add later (see :attr:`extra_enum_values`).

        Without ``source_index_id`` the backup is of the index that has ``source_index_name`` now; if none
        has, of the last one that had it (deleted: the backup then carries ``source_index_deleted_at``), or
        of one deleted before the emulator started.  Add the index first for backups of an active index."""
        backup_id = backup_id or str(uuid.uuid4())
        if backup_id in self._backups:
            raise ValueError(f"backup {backup_id} already exists")
        if isinstance(created_at, datetime):
            created_at = _timestamp(created_at)
        self._allow_enum_value("BackupModel", "status", status)
        model: JSON = {
            "backup_id": backup_id,
            "source_index_name": source_index_name,
            "source_index_id": source_index_id or self._incarnation_for_backup(source_index_name),
            "name": name,
            "status": status,
            "cloud": cloud,
            "region": region,
            "schema": schema if schema is not None else _vectors_schema(dimension, metric, vector_type),
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
        if source_index_id is not None and not any(
            i.index_id == source_index_id for i in self._incarnations.get(source_index_name, [])
        ):
            self._incarnations.setdefault(source_index_name, []).insert(0, _Incarnation(source_index_id))
        self._backups[backup_id] = model
        self._backup_seq[backup_id] = self._next_seq()
        return copy.deepcopy(model)

    def add_backups(
        self,
        source_index_name: str,
        *,
        count: int,
        every: timedelta = timedelta(days=1),
        newest: datetime | None = None,
        **fields: Any,
    ) -> list[JSON]:
        """``count`` backups of ``source_index_name``, one every ``every`` back from ``newest`` (default: now),
        newest first, each named after its day ("nightly-1130"); ``fields`` as for :meth:`add_backup`."""
        newest = newest or datetime.now(UTC)
        made = []
        for n in range(count):
            taken = newest - every * n
            made.append(
                self.add_backup(
                    source_index_name=source_index_name,
                    created_at=taken,
                    **{"name": f"nightly-{taken:%m%d}", **fields},
                )
            )
        return made

    def set_backup_status(self, backup_id: str, status: str) -> None:
        """Change a backup's status (e.g. "Initializing" -> "Ready")."""
        self._allow_enum_value("BackupModel", "status", status)
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
        schema: JSON | None = None,
        source_backup_id: str | None = None,
    ) -> JSON:
        """Create an index directly (e.g. a name conflict or a restore source) and return its IndexModel.

        ``source_backup_id`` makes it look restored from that backup (as another tool would have)."""
        if name in self._indexes:
            raise ValueError(f"index {name} already exists")
        if not _INDEX_NAME.match(name):
            raise ValueError(f"{name!r}: {_INDEX_NAME_RULE}")
        index = _Index(
            name=name,
            index_id=str(uuid.uuid4()),
            seq=self._next_seq(),
            host=self._new_host(name),
            cloud=cloud,
            region=region,
            deletion_protection=deletion_protection,
            tags=dict(tags) if tags is not None else None,
            schema=schema if schema is not None else _vectors_schema(dimension, metric, vector_type),
            state=state,
            source_backup_id=source_backup_id,
        )
        self._indexes[name] = index
        self._incarnations.setdefault(name, []).append(_Incarnation(index.index_id))
        if state == "Ready":
            self._ready_since[name] = -math.inf  # long Ready: counted
        model = self._index_model(index)
        self._require_valid("IndexModel", model)
        return model

    def remove_index(self, name: str, *, at: datetime | None = None) -> None:
        """Delete an index as ``DELETE /indexes/{name}`` would (whatever its deletion protection), without HTTP.
        Its backups stay, listed with ``include_deleted`` and ``source_index_deleted_at`` (``at``, default now)."""
        self._forget_index(name, at)

    def set_restore_duration(self, backup_id: str, seconds: float) -> None:
        """Restores started later from ``backup_id`` take ``seconds`` (``math.inf``: never finish)."""
        if seconds < 0 or math.isnan(seconds):
            raise ValueError("duration must be >= 0")
        self._durations[backup_id] = seconds

    def fail_restore(self, backup_id: str, at_percent: float = 50.0) -> None:
        """Restores started later from ``backup_id`` fail once ``at_percent`` of their duration has passed.

        The job ends "Failed" (2026-07 reports no percent for it) and its index "InitializationFailed".
        Like all behaviour switches this is captured when a restore starts, so a job never changes its past.
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

    def cancel_restore(self, job_id: str, *, delete_index: bool = False) -> None:
        """Cancel a running restore job now: it ends "Cancelled", its index "InitializationFailed" (or, with
        ``delete_index``, the index is gone, and with it the job from listings when that is hidden)."""
        job = self._jobs[job_id]
        job.cancelled_at = self._now()
        if delete_index and job.target_index_name in self._indexes:
            self._forget_index(job.target_index_name)

    def set_restore_status(self, job_id: str, status: str | None) -> None:
        """Report ``status`` for a restore job whatever time says (None: time decides again), e.g. a value
        Pinecone may add later; its index stays Initializing meanwhile."""
        if status is not None:
            self._allow_enum_value("RestoreJobModel", "status", status)
        self._jobs[job_id].status_override = status

    def malform_restore_job(self, job_id: str, **fields: Any) -> None:
        """Answer for this restore job with ``fields`` put in its model (e.g. ``created_at="yesterday"``),
        breaking the spec on purpose; the rest of each answer is still checked.  No fields: mend it."""
        if fields:
            self._malformed[job_id] = dict(fields)
        else:
            self._malformed.pop(job_id, None)

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
        if status >= 400 and status != 401:
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
        """Current BackupModel of ``backup_id`` as ``describe_backup`` reports it, or None."""
        model = self._backups.get(backup_id)
        return self._backup_model(model) if model is not None else None

    def index(self, name: str) -> JSON | None:
        """Current IndexModel of index ``name`` (computed at the emulator's current time), or None."""
        index = self._indexes.get(name)
        return self._index_model(index) if index is not None else None

    def indexes(self) -> list[JSON]:
        """All current IndexModels, oldest first (the order of ``GET /indexes``)."""
        return [self._index_model(i) for i in sorted(self._indexes.values(), key=lambda i: i.seq)]

    def restore_job(self, job_id: str) -> JSON | None:
        """Current RestoreJobModel of ``job_id`` (as it is, even if a test made its answers malformed), or None."""
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
        # Injected faults reach the data plane too (before the first await, in arrival order, as in _handle).
        fault = next((f for f in self._faults if not f.exhausted and f.matches("POST", record.path)), None)
        if fault is not None:
            fault.hits += 1
            record.fault = fault
        await self._notifier.notify()
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.drop_connection:
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError  # aiohttp sends nothing for a cancelled handler
        if fault is not None and fault.status:
            status, body = fault.status, self._data_plane_fault(fault)
        else:
            status, body = self._index_stats(record, request.match_info["host"])
        headers = {VERSION_HEADER: API_VERSION}
        if fault is not None and fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if isinstance(body, str):  # 401: plain text in 2026-07
            record.status = status
            await self._notifier.notify()
            return web.Response(status=status, text=body, content_type="text/plain", headers=headers)
        schema = "IndexDescription" if status == 200 else "rpcStatus"
        errors = self.data_spec.errors(self.data_spec.component(schema), body)
        if errors:
            problem = self.data_spec.describe(errors)
            self.spec_violations.append(SpecViolation("POST", record.path, status, problem, body))
            status, body = 500, {"code": 13, "message": f"Pinecone emulator bug: {problem}", "details": []}
        record.status = status
        await self._notifier.notify()
        return web.json_response(body, status=status, headers=headers)

    @staticmethod
    def _data_plane_fault(fault: Fault) -> JSON | str:
        """A fault's answer on the data plane: an rpcStatus (gRPC's code for the HTTP status), 401 as plain text."""
        if fault.status == 401:
            return _UNAUTHORIZED
        code = {400: 3, 403: 7, 404: 5, 429: 8, 500: 13, 503: 14, 504: 4}.get(fault.status, 2)
        return {"code": code, "message": fault.message or f"injected fault {fault.status}", "details": []}

    def _index_stats(self, record: RecordedRequest, host: str) -> tuple[int, JSON | str]:
        if record.headers.get("api-key") != self.api_key:
            return 401, _UNAUTHORIZED
        if record.headers.get(VERSION_HEADER.lower()) != API_VERSION:
            return 400, {"code": 3, "message": f"{VERSION_HEADER} must be {API_VERSION}", "details": []}
        if not isinstance(record.json, dict):
            return 400, {"code": 3, "message": "The request body must be a JSON object.", "details": []}
        index = next((i for i in self._indexes.values() if i.host == host), None)
        if index is None or not self._index_state(index)[1]:
            return 404, {"code": 5, "message": f"No index at host {host}.", "details": []}
        records = 0
        job = self._jobs.get(index.restore_job_id or "")
        if job is not None:
            records = int(self._backups.get(job.backup_id, {}).get("record_count") or 0)
            lag = self.realism.count_lag
            since = self._ready_since.get(index.name, self._now())
            if lag > 0:  # counted some time after Ready, rising from nothing
                records = int(records * min(1.0, max(0.0, self._now() - since) / lag))
        shape = _dense_field(index.schema)
        body: JSON = {
            "namespaces": {"": {"vectorCount": records}},
            "indexFullness": 0.0,
            "totalVectorCount": records,
            "vectorType": "dense" if shape is not None else "sparse",
        }
        if shape is not None:
            body["dimension"] = shape["dimension"]
            body["metric"] = shape["metric"]
        else:
            body["metric"] = "dotproduct"
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
        if reply.text is not None:
            return web.Response(status=reply.status, text=reply.text, content_type="text/plain", headers=headers)
        if reply.body is None:
            return web.Response(status=reply.status, headers=headers)
        return web.json_response(reply.body, status=reply.status, headers=headers)

    def _fault_reply(self, fault: Fault) -> _Reply:
        if fault.status == 401:  # plain text in 2026-07, whatever the route
            return _Reply(401, None, text=fault.message or _UNAUTHORIZED, documented=False)
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
            # 401 is documented for every operation, as plain text (UnauthorizedMessage), hence a behaviour reply.
            return _Reply(401, None, text=_UNAUTHORIZED)
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
        if reply.text is not None:
            if reply.status != 401:
                return f"a plain-text body is only documented for 401, not {reply.status}"
            if op is not None and op.response_media.get("401") != "text/plain":
                return f"the spec documents no plain-text 401 for {op.method} {op.template}"
            errors = self._errors(self.spec.component("UnauthorizedMessage"), reply.text)
            return f"not an UnauthorizedMessage: {self.spec.describe(errors)}" if errors else None
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
        if op.response_media.get(key) != "application/json":
            return f"spec documents a {op.response_media.get(key)} body for {status}, but JSON was sent"
        checked = reply.checked_body if reply.checked_body is not None else reply.body
        errors = self._errors(schema, checked)
        return f"body does not match the {status} schema: {self.spec.describe(errors)}" if errors else None

    def _errors(self, schema: SchemaRef, instance: Any) -> list[Any]:
        """The spec's errors, but for enum values a test chose beyond the spec's lists (Pinecone may add them)."""
        return [
            e
            for e in self.spec.errors(schema, instance)
            if not (e.validator == "x-enum" and e.instance in self.extra_enum_values)
        ]

    def _allow_enum_value(self, component: str, prop: str, value: str) -> None:
        listed = self.spec.document["components"]["schemas"][component]["properties"][prop].get("x-enum", [])
        if value not in listed:
            self.extra_enum_values.add(value)

    def _require_valid(self, component: str, instance: Any) -> None:
        errors = self._errors(self.spec.component(component), instance)
        if errors:
            raise ValueError(f"not a valid {component}: {self.spec.describe(errors)}")

    def _describe_recent(self) -> str:
        lines = [f"  requests received: {len(self.requests)}; the last ones:"]
        for r in self.requests[-25:]:
            fault = f" [fault {r.fault.status}]" if r.fault is not None else ""
            query = f"?{'&'.join(f'{k}={v}' for k, v in r.query.items())}" if r.query else ""
            lines.append(f"    {r.method} {r.path}{query} -> {r.status}{fault}")
        lines.append(f"  indexes: {[(i['name'], i['status']['state']) for i in self.indexes()]}")
        jobs = [(j["target_index_name"], j["status"], j["created_at"]) for j in self.restore_jobs()]
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
        self._forget_index(index.name)
        return _Reply(202, None)

    def _list_project_backups(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        """Every backup of the project, in no promised order (the spec names none):
        :attr:`Realism.backup_listing_order`, later pages repeating an item when :attr:`Realism.repeat_across_pages`."""
        order = self.realism.backup_listing_order
        entries = [(self._backup_order_key(b, order), self._backup_model(m)) for b, m in self._backups.items()]
        return self._paginate(f"backups:{order}", entries, args["query"], overlap=self.realism.repeat_across_pages)

    def _list_index_backups(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        """Without ``include_deleted``: the backups of the active index by that name, 404 if there is none
        (also when only deleted indexes had the name).  With it: the backups of every index that ever had the
        name, 404 only if none ever did.  In no promised order (:attr:`Realism.backup_listing_order`)."""
        name = path["index_name"]
        query = args["query"]
        include_deleted = bool(query.get("include_deleted", False))
        if include_deleted:
            if not self._incarnations.get(name):
                return _error(404, "NOT_FOUND", f"Index {name} not found.")
            wanted = {incarnation.index_id for incarnation in self._incarnations[name]}
        else:
            active = self._indexes.get(name)
            if active is None:
                return _error(404, "NOT_FOUND", f"Index {name} not found.")
            wanted = {active.index_id}
        order = self.realism.backup_listing_order
        entries = [
            (self._backup_order_key(backup_id, order), self._backup_model(model))
            for backup_id, model in self._backups.items()
            if model["source_index_name"] == name and model["source_index_id"] in wanted
        ]
        kind = f"backups:{name}:{order}:{include_deleted}"
        return self._paginate(kind, entries, query, overlap=self.realism.repeat_across_pages)

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
            return _error(412, "FAILED_PRECONDITION", f"Backup {backup_id} is not ready (status: {backup['status']}).")
        name = body["name"]
        if name in self._indexes:
            return _error(409, "ALREADY_EXISTS", f"Resource {name} already exists.")
        index = _Index(
            name=name,
            index_id=str(uuid.uuid4()),
            seq=self._next_seq(),
            host=self._new_host(name),
            cloud=backup["cloud"],
            region=backup["region"],
            deletion_protection=body.get("deletion_protection", "disabled"),
            tags=dict(body["tags"]) if body.get("tags") is not None else None,
            schema=copy.deepcopy(backup.get("schema") or {"fields": {}}),  # inherited, never overridden
            source_backup_id=backup_id,
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
            rank=self._random.random(),
        )
        index.restore_job_id = job.restore_job_id
        self._indexes[name] = index
        self._incarnations.setdefault(name, []).append(_Incarnation(index.index_id))
        self._jobs[job.restore_job_id] = job
        return _Reply(202, {"restore_job_id": job.restore_job_id, "index_id": index.index_id})

    def _list_restore_jobs(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        now = self._now()
        shown = [
            job
            for job in self._jobs.values()
            if now - job.started >= self.realism.unlisted_after_create
            and not (self.realism.hide_jobs_of_deleted_indexes and self._index_deleted(job))
        ]
        order = self.realism.listing_order
        entries = [(self._order_key(job, order), self._served_job(job)) for job in shown]
        reply = self._paginate(
            f"restore-jobs:{order}", entries, args["query"], overlap=self.realism.repeat_across_pages
        )
        stop_early = self.realism.stop_early and self._random.random() < self.realism.stop_early
        if stop_early and reply.status == 200 and reply.body is not None and reply.body.get("pagination"):
            # More exist, but this page says it is the last one.
            del reply.body["pagination"]
            if self.realism.null_pagination:
                reply.body["pagination"] = None
        if reply.status != 200 or reply.body is None:
            return reply
        if any(m.get("restore_job_id") in self._malformed for m in reply.body["data"]):
            reply.checked_body = {
                **reply.body,
                "data": [m for m in reply.body["data"] if m.get("restore_job_id") not in self._malformed],
            }
        return reply

    def _describe_restore_job(self, record: RecordedRequest, path: dict[str, str], args: dict[str, Any]) -> _Reply:
        job = self._jobs.get(path["job_id"])
        if job is None or self._now() - job.started < self.realism.not_found_after_create:
            return _error(404, "NOT_FOUND", f"Restore job {path['job_id']} not found.")
        reply = _Reply(200, self._served_job(job))
        if job.restore_job_id in self._malformed:
            reply.checked_body = self._job_model(job)
        return reply

    # =====================================================================================
    # Models and helpers
    # =====================================================================================

    def _order_key(self, job: _RestoreJob, order: ListingOrder) -> tuple[float, ...]:
        if order == "newest_first":
            return (-job.seq,)
        if order == "oldest_first":
            return (job.seq,)
        return (job.rank, job.seq)

    def _backup_order_key(self, backup_id: str, order: ListingOrder) -> tuple[float, ...]:
        seq = self._backup_seq[backup_id]
        if order == "newest_first":
            return (-seq,)
        if order == "oldest_first":
            return (seq,)
        return (random.Random(f"{self.realism.seed}:{backup_id}").random(), seq)

    def _incarnation_for_backup(self, name: str) -> str:
        """The index a new backup of ``name`` is of: the active one, else the last deleted one, else one
        deleted before the emulator started."""
        active = self._indexes.get(name)
        if active is not None:
            return active.index_id
        known = self._incarnations.setdefault(name, [])
        if not known:
            known.append(_Incarnation(str(uuid.uuid4())))
        return known[-1].index_id

    def _forget_index(self, name: str, at: datetime | None = None) -> None:
        index = self._indexes.pop(name)
        for incarnation in self._incarnations.get(name, []):
            if incarnation.index_id == index.index_id:
                incarnation.deleted_at = at or datetime.now(UTC)

    def _deleted_at(self, name: str, index_id: str) -> str | None:
        """When the index a backup was taken of was deleted, as the spec says it (None: it is active)."""
        active = self._indexes.get(name)
        if active is not None and active.index_id == index_id:
            return None
        incarnation = next((i for i in self._incarnations.get(name, []) if i.index_id == index_id), None)
        if incarnation is not None and incarnation.deleted_at is not None:
            return _timestamp(incarnation.deleted_at)
        # Deleted before the emulator started: it lived at least until its last backup.
        taken = [
            datetime.fromisoformat(m["created_at"])
            for m in self._backups.values()
            if m["source_index_name"] == name and m["source_index_id"] == index_id and m.get("created_at")
        ]
        return _timestamp(max(taken, default=datetime.now(UTC)))

    def _index_deleted(self, job: _RestoreJob) -> bool:
        index = self._indexes.get(job.target_index_name)
        return index is None or index.index_id != job.target_index_id

    def _paginate(
        self,
        kind: str,
        entries: Sequence[tuple[tuple[float, ...], JSON]],
        query: dict[str, Any],
        *,
        overlap: bool = False,
    ) -> _Reply:
        """Keyset pagination in ascending key order with an opaque (base64 JSON) ``paginationToken``.

        Keyset rather than offset so that items created between two page fetches neither repeat
        nor disappear, unless ``overlap``: then each later page starts with the item that ended the
        page before, as the SDK warns pages may.  On the last page ``pagination`` is null or left out
        (:attr:`Realism.null_pagination`; the 2026-07 spec allows both).
        """
        limit: int = query.get("limit", 100)
        if limit < 1:
            return _error(400, "INVALID_ARGUMENT", f"Invalid value for query parameter `limit`: {limit}.")
        entries = sorted(entries, key=lambda e: e[0])
        token = query.get("paginationToken")
        if token is not None:
            after = self._decode_token(kind, token)
            if after is None:
                return _error(400, "INVALID_ARGUMENT", f"Invalid paginationToken {token!r}.")
            key, inclusive = after
            entries = [e for e in entries if e[0] > key or (inclusive and e[0] == key)]
        page, rest = entries[:limit], entries[limit:]
        body: JSON = {"data": [model for _, model in page]}
        if rest and page:
            last = page[-1][0]
            # Overlapping: the next page starts again at this page's last item (never a page of only that).
            again = overlap and len(page) > 1
            body["pagination"] = {"next": self._encode_token(kind, last, inclusive=again)}
        elif self.realism.null_pagination:
            body["pagination"] = None
        return _Reply(200, body)

    @staticmethod
    def _encode_token(kind: str, after: tuple[float, ...], *, inclusive: bool) -> str:
        data = {"kind": kind, "after": list(after), "inclusive": inclusive}
        return base64.b64encode(json.dumps(data).encode()).decode()

    @staticmethod
    def _decode_token(kind: str, token: str) -> tuple[tuple[float, ...], bool] | None:
        try:
            data = json.loads(base64.b64decode(token, validate=True))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict) or data.get("kind") != kind or not isinstance(data.get("after"), list):
            return None
        after = data["after"]
        if not all(isinstance(part, int | float) for part in after):
            return None
        return tuple(after), bool(data.get("inclusive"))

    def _backup_model(self, stored: JSON) -> JSON:
        """A backup as describe_backup reports it: without counts and schema until it is Ready."""
        model = copy.deepcopy(stored)
        deleted_at = self._deleted_at(model["source_index_name"], model["source_index_id"])
        if deleted_at is not None:
            model["source_index_deleted_at"] = deleted_at
        if self.realism.backup_facts_when_ready and model["status"] != "Ready":
            for key in ("record_count", "namespace_count", "size_bytes", "schema"):
                model.pop(key, None)
        return model

    def _index_state(self, index: _Index) -> tuple[str, bool]:
        state, ready = index.state, index.state in {"Ready", "ScalingUp", "ScalingDown"}
        if index.restore_job_id is not None:
            job = self._jobs[index.restore_job_id]
            status, finished_after = job.progress(self._now())
            if status == "Completed":
                state, ready = ("InitializationFailed", False) if job.fail_index_init else ("Ready", True)
            elif status in {"Failed", "Cancelled"}:
                state, ready = "InitializationFailed", False
            else:
                state, ready = "Initializing", False
            if ready and index.name not in self._ready_since and finished_after is not None:
                self._ready_since[index.name] = job.started + finished_after
        return state, ready

    def _index_model(self, index: _Index) -> JSON:
        state, ready = self._index_state(index)
        host = index.host if ready or not self.realism.empty_host_while_initializing else ""
        model: JSON = {
            "name": index.name,
            "host": host,
            "deletion_protection": index.deletion_protection,
            "deployment": {"deployment_type": "managed", "cloud": index.cloud, "region": index.region},
            "read_capacity": {"mode": "OnDemand", "status": {"state": "Ready"}},
            "schema": copy.deepcopy(index.schema),
            "status": {"ready": ready, "state": state},
            "tags": dict(index.tags) if index.tags is not None else None,
        }
        if index.source_backup_id is not None:
            model["source_backup_id"] = index.source_backup_id
        return model

    def _job_model(self, job: _RestoreJob) -> JSON:
        now = self._now()
        status, finished_after = job.progress(now)
        assigned = now - job.started >= self.realism.created_at_null_for
        model: JSON = {
            "restore_job_id": job.restore_job_id,
            "backup_id": job.backup_id,
            "target_index_name": job.target_index_name,
            "target_index_id": job.target_index_id,
            "status": status,
            "created_at": _timestamp(job.created_at) if assigned else None,
            "completed_at": None,
        }
        if finished_after is not None:
            model["completed_at"] = _timestamp(job.created_at + timedelta(seconds=finished_after))
        if status == "Completed":
            model["percent_complete"] = 100
        return model

    def _served_job(self, job: _RestoreJob) -> JSON:
        """The model as answered: with the fields a test broke on purpose, if it did."""
        return {**self._job_model(job), **self._malformed.get(job.restore_job_id, {})}

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @staticmethod
    def _new_host(name: str) -> str:
        return f"{name}-{secrets.token_hex(4)[:7]}.{_HOST_SUFFIX}"
