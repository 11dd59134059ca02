"""Keeps a job's Slack thread in step with the store: one parent, a summary reply per change.

Called after every persisted change. What to say is decided by pure functions in `render`;
this module only sends it and records the parent's ts.
"""

from __future__ import annotations

import logging

from bot import render
from bot.jobs import Job, JobState
from bot.slack_publisher import SlackPublisher
from storage.base import JobStore, StoreError

log = logging.getLogger(__name__)


class Announcer:
    def __init__(self, store: JobStore, publisher: SlackPublisher, incident_channel: str | None) -> None:
        self._store = store
        self._publisher = publisher
        self._incident_channel = incident_channel

    async def show(self, job: Job) -> Job:
        """Post the parent if it is missing, else bring it up to date."""
        if job.message_ts is None:
            ts = await self._publisher.post_parent(job)
            if ts is None:
                return job
            try:
                return await self._store.update(job.id, message_ts=ts)
            except StoreError as exc:
                log.error("posted the parent of job %s but could not record its ts: %s", job.id, exc)
                return job.model_copy(update={"message_ts": ts})
        await self._publisher.update_parent(job)
        return job

    async def link(self, job: Job) -> str | None:
        return await self._publisher.permalink(job)

    async def started(self, job: Job) -> Job:
        job = await self.show(job)
        await self._publisher.reply(job, render.thread_started(job))
        return job

    async def milestone(self, job: Job, milestone: int) -> None:
        await self._publisher.update_parent(job)
        await self._publisher.reply(job, render.thread_milestone(job, milestone))

    async def finished(self, job: Job) -> None:
        job = await self.show(job)
        if job.state is JobState.READY:
            await self._publisher.reply(job, render.thread_ready(job))
            return
        await self._publisher.reply(job, render.thread_failed(job))
        await self._incident(job)

    async def _incident(self, job: Job) -> None:
        link = await self._publisher.permalink(job)
        notice = render.incident_notice(job, link)
        if self._incident_channel and self._incident_channel != job.channel_id:
            await self._publisher.post(self._incident_channel, notice, job=job)
        elif job.message_ts is None:
            # No thread to hold the failure: say it in the channel itself.
            await self._publisher.post(job.channel_id, notice, job=job)
