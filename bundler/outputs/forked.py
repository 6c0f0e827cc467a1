"""One writing task in a forked child process, beside the parent's own writing.

Writing a large plan spends seconds in two independent pieces: the report (maps and
charts drawn by matplotlib, HTML) and everything else (GeoPackage, CSV, workbook).
On a machine with two cores they can run at once. A forked child inherits the
parent's memory, so nothing is copied or pickled on the way in; on the way out the
child sends back only an exception, if it raised one, which the parent raises again
when it joins the task. Where ``os.fork`` does not exist or there is one core, the
task runs in the caller when it joins it.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import warnings
from collections.abc import Callable


class ForkedTask:
    """A running (or, without fork, deferred) task; :meth:`join` waits and re-raises."""

    def __init__(self, pid: int | None, fd: int | None, task: Callable[[], None] | None = None):
        self._pid, self._fd, self._task = pid, fd, task

    def join(self) -> None:
        """Wait for the task (or run it, when it was not forked); raise what it raised."""
        if self._task is not None:
            task, self._task = self._task, None
            task()
        if self._pid is None:
            return
        chunks = []
        with os.fdopen(self._fd, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                chunks.append(chunk)
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if status == 0:
            return
        stream = io.BytesIO(b"".join(chunks))
        text, err = f"exit code {os.waitstatus_to_exitcode(status)}", None
        try:
            text = pickle.load(stream)
            err = pickle.load(stream)
        except Exception:  # nothing sent (killed), or an exception that does not unpickle
            pass
        if isinstance(err, BaseException):
            raise err
        raise RuntimeError(f"a forked writer failed: {text}")

    def cancel(self) -> None:
        """Stop the task if it still runs (the caller failed; its output is not wanted)."""
        self._task = None
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGTERM)
        os.waitpid(self._pid, 0)
        os.close(self._fd)
        self._pid = None


def can_fork() -> bool:
    """Whether :func:`start_forked` runs its task beside the caller (fork, 2+ cores)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2


def start_forked(task: Callable[[], None], fork: bool = True) -> ForkedTask:
    """Start ``task`` in a forked child; without ``fork`` (or :func:`can_fork`), defer it.

    The child must not print or touch the parent's open files: it only writes files of
    its own and ends with ``os._exit``, so no buffered output of the parent is written
    twice and no clean-up handler of the parent runs in it.

    Parameters
    ----------
    task : callable
        Takes no arguments; its return value is ignored.
    fork : bool
        False runs ``task`` in the caller, when it joins the task (small outputs, where
        a fork costs more than it saves; the files are then written in the same order
        as with a fork: the caller's first).

    Returns
    -------
    ForkedTask
        Call :meth:`ForkedTask.join` (or :meth:`ForkedTask.cancel` when the caller
        fails) before using what the task writes.
    """
    if not (fork and can_fork()):
        return ForkedTask(None, None, task)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process with threads (a MIP solver's
        # idle pool); the child only draws and writes, and takes none of their locks
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(write_fd)
        return ForkedTask(pid, read_fd)
    os.close(read_fd)
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        task()
        code = 0
    except BaseException as exc:
        # the text first, so that the parent has it even when the exception itself
        # does not pickle or unpickle
        payload = pickle.dumps(f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            payload += pickle.dumps(exc)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)
