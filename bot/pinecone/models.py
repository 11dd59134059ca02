"""Wire models for the parts of Pinecone's control plane the bot uses.

Shapes follow `db_control_2026-04.oas.yaml` (components/schemas). Unknown fields are ignored
so that additive API changes do not break parsing; required fields are required here too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Backup(_Wire):
    """BackupModel."""

    backup_id: str
    source_index_name: str
    source_index_id: str
    status: str
    cloud: str
    region: str
    name: str | None = None
    description: str | None = None
    dimension: int | None = None
    metric: str | None = None
    record_count: int | None = None
    namespace_count: int | None = None
    size_bytes: int | None = None
    tags: dict[str, str] | None = None
    created_at: str | None = None

    @property
    def ready(self) -> bool:
        return self.status.lower() == "ready"


class Pagination(_Wire):
    """PaginationResponse."""

    next: str


class BackupList(_Wire):
    """BackupList."""

    data: list[Backup] = Field(default_factory=list)
    pagination: Pagination | None = None


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


class RestoreJob(_Wire):
    """RestoreJobModel. `status` is a free string in the spec (Pending, InProgress, Completed, Failed)."""

    restore_job_id: str
    backup_id: str
    target_index_name: str
    target_index_id: str
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    percent_complete: float | None = None

    @property
    def completed(self) -> bool:
        return self.status.lower() == "completed"

    @property
    def failed(self) -> bool:
        return self.status.lower() in {"failed", "cancelled", "canceled"}


class RestoreJobList(_Wire):
    """RestoreJobList."""

    data: list[RestoreJob]
    pagination: Pagination | None = None


class IndexStatus(_Wire):
    ready: bool
    state: str


class IndexModel(_Wire):
    """IndexModel."""

    name: str
    metric: str
    host: str
    status: IndexStatus
    spec: dict[str, Any]
    vector_type: str = "dense"
    dimension: int | None = None
    deletion_protection: str | None = None
    tags: dict[str, str] | None = None

    @property
    def ready(self) -> bool:
        return self.status.ready and self.status.state == "Ready"

    @property
    def initialization_failed(self) -> bool:
        return self.status.state == "InitializationFailed"


class ErrorDetail(_Wire):
    code: str
    message: str


class ErrorResponse(_Wire):
    """ErrorResponse: the body of every Pinecone error."""

    status: int
    error: ErrorDetail


class NamespaceSummary(_Wire):
    vectorCount: int = 0


class IndexStats(_Wire):
    """IndexDescription, from the data plane's describe_index_stats (db_data_2026-04)."""

    namespaces: dict[str, NamespaceSummary] = Field(default_factory=dict)
    dimension: int | None = None
    totalVectorCount: int | None = None
    metric: str | None = None
    vectorType: str | None = None
