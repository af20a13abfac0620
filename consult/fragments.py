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
from typing import Any

from markupsafe import Markup


class FragmentCache:
    """A bounded map of keys to rendered markup (or pages, consult/page_cache.py), least
    recently used first out."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def find(self, key: Hashable) -> Any:
        """What is held under key (now the most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def keep(self, key: Hashable, value: Any) -> None:
        """Hold value under key, letting the least recently used go beyond capacity."""
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, key: Hashable, render: Callable[[], Markup]) -> Markup:
        """The fragment made under this key, rendering it (outside the lock) if not held."""
        found = self.find(key)
        if found is None:
            found = render()
            self.keep(key, found)
        return found
