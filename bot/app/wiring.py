"""The composition root: every component built once from settings, and the use cases the handlers call.

Clients are injectable so tests (and later, other deployments) can hand in their own.

Several replicas may share one store: each serves Slack and drives the requests it receives (holding leases on
those jobs); the leader among them also runs the tracker and the Slack sender (bot/app/leadership.py), which
write through the store fenced by its epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.job_events import report_state_changes
from bot.app.leadership import Leadership, Nudges, tick_for
from bot.app.metrics import Metrics
from bot.app.settings import Settings
from bot.core.policy.policy_loader import load_policy
from bot.core.policy.policy_model import Policy, policy_from_settings
from bot.pinecone import PineconeClient
from bot.pinecone.transport import CountingTransport
from bot.service.ack_priority import AckPriority
from bot.service.approvals import Approvals
from bot.service.background import BackgroundTasks
from bot.service.backup_choice import BackupChooser
from bot.service.backup_picker import BackupPicker
from bot.service.channels import ChannelAccess
from bot.service.delivery import SlackDelivery
from bot.service.leases import Leases
from bot.service.queries import Queries
from bot.service.restore_requests import RestoreRequests
from bot.service.restores import RestoreService, process_name
from bot.service.seen_deliveries import SeenDeliveries
from bot.service.tracker import Tracker
from bot.service.use_cases import UseCases
from bot.slack.publisher import SlackPublisher
from bot.slack.usergroups import UserGroups
from bot.slack.users import UserZones
from bot.slack.web_client import web_client
from storage import JobStore, open_store
from storage.base import Coordination


@dataclass
class Services:
    settings: Settings
    store: JobStore
    pinecone: PineconeClient
    slack: AsyncWebClient
    delivery: SlackDelivery
    restores: RestoreService
    tracker: Tracker
    policy: Policy
    groups: UserGroups
    seen: SeenDeliveries
    cases: UseCases
    tasks: BackgroundTasks
    channels: ChannelAccess
    coordination: Coordination
    leadership: Leadership
    leases: Leases
    nudges: Nudges
    metrics: Metrics = field(default_factory=Metrics)

    async def close(self) -> None:
        await self.nudges.close()
        await self.coordination.close()
        await self.pinecone.aclose()
        await self.store.close()


def slack_client(settings: Settings, *, metrics: Metrics | None = None) -> AsyncWebClient:
    """With `metrics`, every Web API call is counted in restore_bot_slack_requests_total."""
    return web_client(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_api_url,
        on_call=metrics.slack_request if metrics is not None else None,
    )


def pinecone_client(
    settings: Settings, http: httpx.AsyncClient | None = None, *, metrics: Metrics | None = None
) -> PineconeClient:
    """With `metrics` (and no `http` handed in), every HTTP attempt is counted in
    restore_bot_pinecone_requests_total, by a wrapper around httpx's own transport."""
    if http is None:
        transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport()
        if metrics is not None:
            transport = CountingTransport(transport, metrics.pinecone_request, settings.pinecone_controller_host)
        http = httpx.AsyncClient(
            base_url=settings.pinecone_controller_host,
            timeout=httpx.Timeout(settings.pinecone_timeout, connect=min(5.0, settings.pinecone_timeout)),
            headers={"User-Agent": "restore-bot/0.1"},
            transport=transport,
        )
    return PineconeClient(http, settings.pinecone_api_key.get_secret_value())


async def build_services(
    settings: Settings,
    *,
    store: JobStore | None = None,
    pinecone: PineconeClient | None = None,
    slack: AsyncWebClient | None = None,
) -> Services:
    policy = policy_for(settings)  # before anything is opened: a bad policy file stops start-up
    metrics = Metrics()
    store = store or await open_store(settings.database_url, pool_size=settings.database_pool_size)
    # Each state change is counted and logged, whichever component made it.
    store.on_state_change(report_state_changes(metrics))
    pinecone = pinecone or pinecone_client(settings, metrics=metrics)
    slack = slack or slack_client(settings, metrics=metrics)
    name = process_name()
    coordination = store.coordination(name)
    # The tracker and the sender run in the leader only; the store refuses their writes under an older epoch.
    background = store.fenced(lambda: coordination.epoch)
    nudges = Nudges(coordination, shared=store.shared)
    publisher = SlackPublisher(slack)
    channels = ChannelAccess(publisher)
    # One for the process: the background work and the restores a burst starts wait until it is answered.
    acks = AckPriority()
    delivery = SlackDelivery(
        background,
        publisher,
        policy.incident_channel,
        channels=channels,
        on_dropped=metrics.slack_delivery_dropped,
        on_wake=nudges.wake_leader,
        on_thread=nudges.thread_posted,
        acks=acks,
    )
    nudges.listen_for(delivery)
    leases = Leases(store, name, duration=settings.lease)
    restores = RestoreService(store, pinecone, delivery, acks=acks, leases=leases)
    tracker = Tracker(
        background,
        pinecone.without_retries(),  # the tracker's next cycle is its retry, with its own back-off
        restores,
        delivery,
        poll_interval=settings.poll_interval,
        restore_timeout=settings.restore_timeout,
        verify_timeout=settings.verify_timeout,
        incident_channel=policy.incident_channel,
        verifier=pinecone,
        data_plane_url=settings.data_plane_url,
        on_cycle=metrics.tracker_cycle,
    )
    leadership = Leadership(
        coordination,
        lambda stopping: (tracker.run(stopping), delivery.run(stopping)),
        interval=tick_for(settings.poll_interval),
        metrics=metrics,
    )
    groups = UserGroups(slack)
    seen = SeenDeliveries(store, holder=name)
    tasks = BackgroundTasks()
    zones = UserZones(slack)
    chooser = BackupChooser(pinecone, zones)
    requests = RestoreRequests(policy, groups, restores, publisher, tasks, channels, chooser=chooser)
    cases = UseCases(
        requests=requests,
        approvals=Approvals(store, groups, restores, publisher, tasks),
        queries=Queries(store, delivery, groups, policy, publisher),
        # The modal's preview of the backup a source index would restore: tried once, as the picker's reads are.
        picker=BackupPicker(pinecone, publisher, requests, chooser=BackupChooser(pinecone.without_retries(), zones)),
        seen=seen,
        tasks=tasks,
    )
    return Services(
        settings=settings,
        store=store,
        pinecone=pinecone,
        slack=slack,
        delivery=delivery,
        restores=restores,
        tracker=tracker,
        policy=policy,
        groups=groups,
        seen=seen,
        cases=cases,
        tasks=tasks,
        channels=channels,
        coordination=coordination,
        leadership=leadership,
        leases=leases,
        nudges=nudges,
        metrics=metrics,
    )


def channels_to_check(policy: Policy) -> list[str]:
    """Where the bot must be able to speak: every channel the policy names, then the incident channel."""
    named = sorted(policy.channels)
    if policy.incident_channel is not None and policy.incident_channel not in policy.channels:
        named.append(policy.incident_channel)
    return named


def policy_for(settings: Settings) -> Policy:
    """The policy file when RESTORE_BOT_POLICY is set, else the simple channel settings. Raises PolicyError."""
    if settings.policy_path is not None:
        return load_policy(settings.policy_path)
    return policy_from_settings(settings.allowed_channels, settings.incident_channel)
