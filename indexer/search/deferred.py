"""A value derived from a whole generation (the citation index, the reuse map), built once, on
first use: by the caller that asks, or, for a serving engine with more work to do than a request
should wait for, on a thread of its own while the callers that ask meanwhile are told to retry."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Deferred(Generic[T]):
    def __init__(self, build: Callable[[], T], work: Callable[[], int], pending: Callable[[], Exception], name: str):
        """``build()`` makes the value; ``work()`` measures what building costs (in the units the
        engine's wait limit is set in); ``pending()`` is the exception a caller gets while a
        thread builds it; ``name`` names that thread."""
        self._build, self._work, self._pending, self._name = build, work, pending, name
        self.value: T | None = None
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()  # starts one thread
        self._build_lock = threading.Lock()  # one build; a caller waits for a build under way

    def get(self, serving: bool, wait_work: int) -> T:
        value = self.value
        if value is not None:
            return value
        if not serving or self._work() <= wait_work:
            return self._built()
        with self._lock:
            if self.value is None and self.thread is None:
                self.thread = threading.Thread(target=self._build_on_thread, daemon=True, name=self._name)
                self.thread.start()
        if self.value is None:
            raise self._pending()
        return self.value

    def _built(self) -> T:
        with self._build_lock:
            if self.value is None:
                self.value = self._build()
            return self.value

    def _build_on_thread(self) -> None:
        try:
            self._built()
        except Exception:  # a later caller starts another build, and sees the error if it is in the request
            log.exception("building %s failed", self._name)
            with self._lock:
                self.thread = None
