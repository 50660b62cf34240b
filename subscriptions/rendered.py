"""The composed access summary and its JSON body, memoised per process by what it is made of.

A warm access check reads the user's ``sub``, ``ai`` and ``grants`` entries from Redis on every
request (so every invalidation is honoured exactly as before), then composes the summary and
renders it to JSON (about 22 us of a warm check's ~900 us of server CPU on the reference
machine; a reuse costs about 1 us). The summary is a pure function of those three entries, the
user's id and the clock, so this module keeps, per user, the last entries it was composed from,
the summary, its body and ``valid_until``: the first moment at which the clock alone would
change it (the subscription's end, a grant's expiry, the next AI-token month). A request whose
entries are equal to the remembered ones, before ``valid_until``, reuses them; any other
composes afresh and takes the slot. Nothing here is shared between processes or outlives them,
and nothing is trusted that this request's own Redis read did not confirm.

The memo holds at most ``ACCESS_SUMMARY_MEMO_SIZE`` users per process (default 1024, about 4 KB
each with the entries it keeps for the comparison; the first remembered is dropped first; 0 turns
it off): a bounded working set, so that a worker's memory stops growing once it is full (at 4096,
`make bench` measured a worker's RSS still climbing after 100 k Zipf requests over 10 k users).
Summaries handed out are shared: callers read them, never change them.
"""

import datetime as dt
import json
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from etrainer.api.fast_path import COMPACT


def render_body(summary: dict) -> bytes:
    """The bytes ``JsonResponse(summary, json_dumps_params=COMPACT)`` sends (the fast path's)."""
    return json.dumps(summary, cls=DjangoJSONEncoder, **COMPACT).encode()


class ComposedSummary:
    """One user's summary as composed from ``inputs`` (sub, ai, grants), valid before
    ``valid_until``; the body is rendered on first use."""

    __slots__ = ("inputs", "rendered", "summary", "valid_until")

    def __init__(self, inputs: tuple, summary: dict, valid_until: dt.datetime) -> None:
        self.inputs = inputs
        self.summary = summary
        self.valid_until = valid_until
        self.rendered: bytes | None = None

    def holds_for(self, inputs: tuple, now: dt.datetime) -> bool:
        return now < self.valid_until and self.inputs == inputs

    @property
    def body(self) -> bytes:
        if self.rendered is None:
            self.rendered = render_body(self.summary)
        return self.rendered


class SummaryMemo:
    """Per user id, the last ``ComposedSummary``; bounded, oldest dropped first.

    Threads of one process share it: a read is one dict lookup, a write holds the lock, and a
    race at worst composes a summary twice."""

    def __init__(self, size: int | None = None) -> None:
        self.fixed_size = size
        self.slots: dict[str, ComposedSummary] = {}
        self.lock = threading.Lock()

    @property
    def size(self) -> int:
        return self.fixed_size if self.fixed_size is not None else settings.ACCESS_SUMMARY_MEMO_SIZE

    def composed(
        self,
        user_id: str,
        inputs: tuple,
        now: dt.datetime,
        compose: Callable[[], tuple[dict, dt.datetime]],
    ) -> ComposedSummary:
        """The remembered summary when it still holds for ``inputs`` at ``now``, else
        ``compose()`` (summary, valid_until), remembered."""
        slot = self.slots.get(user_id)
        if slot is not None and slot.holds_for(inputs, now):
            return slot
        summary, valid_until = compose()
        slot = ComposedSummary(inputs, summary, valid_until)
        size = self.size
        if size > 0:
            self.remember(user_id, slot, size)
        return slot

    def remember(self, user_id: str, slot: ComposedSummary, size: int) -> None:
        with self.lock:
            slots = self.slots
            slots.pop(user_id, None)  # re-inserted last: dicts keep insertion order
            slots[user_id] = slot
            while len(slots) > size:
                del slots[next(iter(slots))]


# The one memo of this process (the access checks' views share it).
summary_memo = SummaryMemo()
