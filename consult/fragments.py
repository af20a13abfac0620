"""Rendered fragments kept in memory between requests, under keys that hold everything each
was made from: a key that differs wherever the output would differ can never give a stale or
wrong fragment, so nothing has to be told when the data changes (an edit, a hidden comment, a
renamed organisation simply make a new key) and the cache needs no invalidation.

Each process keeps its own; the least recently used fragment goes first once `capacity` are
held, which bounds the memory it takes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from markupsafe import Markup


class FragmentCache:
    """A bounded map of keys to rendered markup, least recently used first out."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, render: Callable[[], Markup]) -> Markup:
        """The fragment made under this key, rendering it (outside the lock) if not held."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = render()
        with self._lock:
            self._items[key] = made
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return made
