"""Course progress per learner, recomputed only when that learner's events change.

Progress is computed from events, and a school year is a thousand events or more per learner:
decoding them all on every home or course page made those pages 10 ms each. Events are
append-only, so the number a learner has is a version (kit.core.eventlog.count_learner_events):
a new answer, a read, or a synced event from another school changes it, and a new pack
version changes the course's key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable

from ..core.progress import CourseProgress

SIZE = 2048   # (learner, course) pairs kept: a few classes' worth, a few hundred KB


class ProgressCache:
    def __init__(self, size: int = SIZE):
        self._items: "OrderedDict[Hashable, CourseProgress]" = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], CourseProgress]) -> CourseProgress:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()  # outside the lock: two threads may both compute, both get the same
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
