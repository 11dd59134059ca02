"""The restore state machine."""

from __future__ import annotations

import pytest

from bot.core.jobs import ACTIVE_STATES, TRANSITIONS, InvalidTransition, JobState, check_transition


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (JobState.REQUESTED, JobState.SUBMITTING),
        (JobState.REQUESTED, JobState.REJECTED),
        (JobState.SUBMITTING, JobState.RESTORING),
        (JobState.SUBMITTING, JobState.REJECTED),
        (JobState.RESTORING, JobState.READY),
        (JobState.RESTORING, JobState.FAILED),
        (JobState.RESTORING, JobState.TIMED_OUT),
    ],
)
def test_allowed_transitions(current: JobState, target: JobState) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (JobState.REQUESTED, JobState.RESTORING),  # never skip the submitting record
        (JobState.REQUESTED, JobState.READY),
        (JobState.RESTORING, JobState.REJECTED),  # once Pinecone took it, it is not "rejected"
        (JobState.READY, JobState.FAILED),
        (JobState.FAILED, JobState.RESTORING),
        (JobState.TIMED_OUT, JobState.READY),
    ],
)
def test_forbidden_transitions(current: JobState, target: JobState) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(current, target)


def test_final_states_have_no_way_out_and_active_ones_do() -> None:
    for state in JobState:
        assert bool(TRANSITIONS[state]) == (state in ACTIVE_STATES)
        assert state.active == (state in ACTIVE_STATES)
