"""What the server keeps in memory between requests, and why each cached value stays right.

A class of 40 phones on one core leaves a page a few milliseconds; decoding the same rows again
on every request was a large part of them. Two caches, one per app (so two data dirs never
share one), each an LRU of values computed on a miss:

- progress: a learner's course progress. Progress is computed from events, and a school year
  is a thousand events or more per learner: decoding them all on every home or course page
  made those pages 10 ms each. Events are append-only, so the number a learner has is a
  version (kit.core.eventlog.count_learner_events): a new answer, a read, or a synced event
  from another school changes it, and a new pack version changes the course's key. It also
  keeps where each learner stands in a quiz (kit.learning.quiz_state), by the number of their
  answers in that lesson; recording an answer carries it one step, so a quiz page and its
  answer no longer reread the lesson's whole history (two reads per answer, each growing
  with every pass).
- content: installed lessons and quizzes as kit.learning finds them (a quiz decoded from its
  JSON into Question objects, a course's lesson list). Installed content changes only when a
  pack is installed, upgraded or removed (kit.content.install), possibly by another process
  (`kit pack install` beside `kit serve`); every key starts with the course's id, version and
  install time (kit.learning.installed), read from the database on each request, so the next
  request after an install misses and reads the new rows, and a removed pack is a 404 before
  the cache is asked. Entries of an old version are never asked again and age out.

Cached values are shared by the server's threads: they are immutable, or never changed by
the code that reads them (a Quiz and its Questions are only read once installed).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

PROGRESS_SIZE = 2048   # (learner, course) pairs kept: a few classes' worth, a few hundred KB
CONTENT_SIZE = 512     # lessons, quizzes and lesson lists: the sample courses many times over,
                       # and at most a few MB of a 5,000-lesson library


class Cache:
    """A thread-safe LRU: `get(key, compute)` returns the kept value or computes and keeps it."""

    def __init__(self, size: int):
        self._items: "OrderedDict[Hashable, Any]" = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
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
