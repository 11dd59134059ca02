"""What the Slack listeners may call: one object per group of use cases, built by bot/app/wiring.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service.approvals import Approvals
from bot.service.background import BackgroundTasks
from bot.service.backup_picker import BackupPicker
from bot.service.queries import Queries
from bot.service.restore_requests import RestoreRequests
from bot.service.seen_deliveries import SeenDeliveries


@dataclass(frozen=True)
class UseCases:
    requests: RestoreRequests
    approvals: Approvals
    queries: Queries
    picker: BackupPicker
    #: Slack deliveries seen before (retries, double submits), for the de-duplication middleware.
    seen: SeenDeliveries
    #: Work that continues after Slack has been answered; shutdown waits for it.
    tasks: BackgroundTasks
