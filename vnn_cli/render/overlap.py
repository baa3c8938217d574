"""Decode, inference and encode overlapped: the reader runs ahead in one thread and the writer
drains behind in another, each through a small bounded queue, so the model never waits on I/O
and memory stays bounded (at most `depth` frames in each queue). ffmpeg pipes, numpy, OpenCV and
torch release the GIL while they work, so threads overlap for real.

Errors in either thread come out in the caller's thread; stopping early (an error, Ctrl-C)
stops both threads.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def prefetch(items: Iterable[Item], depth: int = 4) -> Iterator[Item]:
    """`items`, produced in a background thread up to `depth` ahead of the consumer."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(q, item, stop):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            _put(q, _Failure(exc), stop)
            return
        finally:
            close = getattr(items, "close", None)
            if stop.is_set() and close is not None:
                try:
                    close()
                except Exception:
                    pass
        _put(q, _DONE, stop)

    thread = threading.Thread(target=produce, name="vnn-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                break
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class BackgroundWriter:
    """`writer(item)` queues the item for `write` in a background thread; `close()` waits until
    all are written and raises the first error `write` met. A context manager."""

    def __init__(self, write: Callable[[Item], None], depth: int = 4):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="vnn-encode", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._write(item)
                except BaseException as exc:
                    self._error = exc

    def __call__(self, item: Item) -> None:
        if self._error is not None:
            raise self._error
        if not _put(self._queue, item, self._stop):
            raise RuntimeError("writer stopped")

    def close(self) -> None:
        _put(self._queue, _DONE, self._stop)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> "BackgroundWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
