"""How many event streams are open in this process: per person (LIVE_STREAMS_PER_PERSON, a
few tabs) and in all (LIVE_STREAMS_PER_PROCESS), so that nobody can take every connection of
a worker and stop it answering pages.

Counted per process, under a lock (threads of the development server, greenlets of gevent).
With several worker processes the caps are per process: one person may hold
LIVE_STREAMS_PER_PERSON streams in each (counting across processes would need Redis). A
stream's place is given back when it ends, however it ends (`Slot.release`, idempotent).
"""

from __future__ import annotations

import threading
from collections import Counter

# Seconds a refused browser is asked to wait: about as long as a tab takes to be closed.
PERSON_RETRY_AFTER = 30
PROCESS_RETRY_AFTER = 10


class StreamRefused(Exception):
    """A stream that may not open now: `status` 429 (this person's cap) or 503 (this
    process's); `retry_after` in seconds; `message` for the person."""

    def __init__(self, status: int, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.message = message


class Slot:
    """One open stream's place; release() gives it back (once, whoever calls it first)."""

    def __init__(self, streams: OpenStreams, person_id: int) -> None:
        self._streams = streams
        self.person_id = person_id
        self._released = False

    def release(self) -> None:
        self._streams._release(self)


class OpenStreams:
    """The streams open in this process, by person."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_person: Counter[int] = Counter()
        self._total = 0

    def take(self, person_id: int, *, per_person: int, per_process: int) -> Slot:
        """A place for one more stream of this person's, or StreamRefused."""
        with self._lock:
            if self._by_person[person_id] >= per_person:
                raise StreamRefused(
                    429,
                    PERSON_RETRY_AFTER,
                    f"You have {per_person} pages with live updates open. "
                    "Close one, then reload this page.",
                )
            if self._total >= per_process:
                raise StreamRefused(
                    503, PROCESS_RETRY_AFTER, "Consult is busy. Live updates will resume shortly."
                )
            self._by_person[person_id] += 1
            self._total += 1
        return Slot(self, person_id)

    def _release(self, slot: Slot) -> None:
        with self._lock:
            if slot._released:
                return
            slot._released = True
            self._total -= 1
            self._by_person[slot.person_id] -= 1
            if self._by_person[slot.person_id] <= 0:
                del self._by_person[slot.person_id]

    def count(self, person_id: int | None = None) -> int:
        """Streams open: this person's, or in all."""
        with self._lock:
            return self._total if person_id is None else self._by_person[person_id]
