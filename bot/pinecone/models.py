"""Wire models for the parts of Pinecone's control plane the bot uses.

Shapes follow `db_control_2026-07.oas.yaml` (components/schemas). Unknown fields are ignored so that
additive API changes do not break parsing, and enum-like strings (a restore job's `status`, an index's
`state`) are kept as they come, so a value Pinecone adds later is shown, never a crash. Only what the
bot cannot work without is required; what the service may leave out or send as null until later
(a restore job's `created_at`, an index's `host`, a backup's counts and schema until it is Ready) is
optional here.

Lists are read item by item (`read_list`): one item that does not match the spec is set aside with its
ID, and the rest of the page is still used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from bot.core.vector_fields import VectorShape, vector_shape


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class SchemaField(_Wire):
    """IndexSchemaField: only what says what a vector field is."""

    type: str | None = None
    dimension: int | None = None
    metric: str | None = None


class IndexSchema(_Wire):
    """IndexSchema."""

    fields: dict[str, SchemaField] = Field(default_factory=dict)


class _HasSchema(_Wire):
    # `schema` is the wire name; BaseModel already has a `schema` attribute, hence the alias.
    index_schema: IndexSchema | None = Field(default=None, alias="schema")

    @property
    def vector_shape(self) -> VectorShape:
        """One dense field's dimension and metric, or what the schema holds instead (sparse, several fields)."""
        return vector_shape(self.index_schema.fields if self.index_schema is not None else None)

    @property
    def dimension(self) -> int | None:
        return self.vector_shape.dimension

    @property
    def metric(self) -> str | None:
        return self.vector_shape.metric


class Backup(_HasSchema):
    """BackupModel. Its counts and schema may be missing until the backup is Ready."""

    backup_id: str
    source_index_name: str
    source_index_id: str | None = None
    status: str
    cloud: str | None = None
    region: str | None = None
    name: str | None = None
    description: str | None = None
    record_count: int | None = None
    namespace_count: int | None = None
    size_bytes: int | None = None
    tags: dict[str, str] | None = None
    created_at: str | None = None
    #: Only for a backup whose source index was deleted (listed with `include_deleted`).
    source_index_deleted_at: str | None = None

    @property
    def ready(self) -> bool:
        return self.status.lower() == "ready"


class Pagination(_Wire):
    """PaginationResponse."""

    next: str | None = None


@dataclass(frozen=True)
class Malformed:
    """A list item that does not match the spec, set aside so the rest of its page can be used."""

    item_id: str | None
    problem: str


class CreateIndexFromBackupRequest(_Wire):
    """CreateIndexFromBackupRequest."""

    name: str = Field(min_length=1, max_length=45)
    tags: dict[str, str] | None = None
    deletion_protection: Literal["enabled", "disabled"] = "disabled"

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CreateIndexFromBackupResponse(_Wire):
    """CreateIndexFromBackupResponse."""

    restore_job_id: str
    index_id: str


FAILED_RESTORE_STATUSES = frozenset({"failed", "cancelled", "canceled"})


def _utc(moment: datetime) -> datetime:
    # The spec's date-time carries an offset; a time without one is read as UTC (as a backup's is,
    # bot/core/backup_choice.py) rather than left naive, which no aware time can be compared with.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class RestoreJob(_Wire):
    """RestoreJobModel. `status` is Pending until the job is Completed, Failed or Cancelled (2026-07); any
    other value is kept and treated as still running. `percent_complete` is only reported once Completed."""

    restore_job_id: str
    backup_id: str
    target_index_name: str
    target_index_id: str
    status: str
    created_at: UtcDatetime | None = None  # null until Pinecone assigns it
    completed_at: UtcDatetime | None = None
    percent_complete: float | None = None

    @property
    def completed(self) -> bool:
        return self.status.lower() == "completed"

    @property
    def failed(self) -> bool:
        return self.status.lower() in FAILED_RESTORE_STATUSES


_Item = TypeVar("_Item", bound=BaseModel)


@dataclass(frozen=True)
class Page(Generic[_Item]):
    """One page of a list: the items that parsed, those that did not, and the next page's token."""

    data: list[_Item]
    malformed: list[Malformed]
    next: str | None


RestoreJobList = Page[RestoreJob]
BackupList = Page[Backup]


class _Envelope(_Wire):
    data: list[Any] = Field(default_factory=list)
    pagination: Pagination | None = None


def read_list(content: bytes, model: type[_Item], id_key: str) -> Page[_Item]:
    """A list answer (`{"data": [...], "pagination": ...}`), item by item. Raises ValidationError (or
    ValueError) only when the envelope itself is unreadable."""
    envelope = _Envelope.model_validate(json.loads(content))
    items: list[_Item] = []
    malformed: list[Malformed] = []
    for raw in envelope.data:
        try:
            items.append(model.model_validate(raw))
        except ValidationError as exc:
            item_id = raw.get(id_key) if isinstance(raw, dict) else None
            problem = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<item>'}: {e['msg']}" for e in exc.errors())
            malformed.append(Malformed(item_id if isinstance(item_id, str) else None, problem))
    token = envelope.pagination.next if envelope.pagination is not None else None
    return Page(items, malformed, token or None)


class _IndexListEnvelope(_Wire):
    indexes: list[Any] = Field(default_factory=list)


def read_index_names(content: bytes) -> list[str]:
    """The names in an IndexList (`{"indexes": [...]}`), in its order; an item without a name is skipped."""
    envelope = _IndexListEnvelope.model_validate(json.loads(content))
    names = []
    for raw in envelope.indexes:
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names


class IndexStatus(_Wire):
    ready: bool
    state: str


FAILED_INDEX_STATES = frozenset({"InitializationFailed", "Failed"})


class IndexModel(_HasSchema):
    """IndexModel (2026-07: `schema` and `deployment` instead of `dimension`, `metric` and `spec`)."""

    name: str
    host: str | None = None  # may be empty (or null) while the index initialises
    status: IndexStatus
    deployment: dict[str, Any] | None = None
    source_backup_id: str | None = None
    deletion_protection: str | None = None
    tags: dict[str, str] | None = None

    @property
    def ready(self) -> bool:
        return self.status.ready and self.status.state == "Ready" and bool(self.host)

    @property
    def initialization_failed(self) -> bool:
        return self.status.state in FAILED_INDEX_STATES


class ErrorDetail(_Wire):
    code: str
    message: str


class ErrorResponse(_Wire):
    """ErrorResponse: the body of every Pinecone error but 401, which is plain text in 2026-07."""

    status: int
    error: ErrorDetail


class NamespaceSummary(_Wire):
    vectorCount: int = 0


class IndexStats(_Wire):
    """IndexDescription, from the data plane's describe_index_stats (db_data_2026-07)."""

    namespaces: dict[str, NamespaceSummary] = Field(default_factory=dict)
    dimension: int | None = None
    totalVectorCount: int | None = None
    metric: str | None = None
    vectorType: str | None = None
