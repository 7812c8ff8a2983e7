"""Run one parse in a child process: bounded in time and memory, its stderr kept for the
developer.

On damaged .xls files (and on any sheet whose last cell is far away) calamine can ask for
terabytes of memory, and Rust aborts the whole process on a failed allocation — nothing Python
can catch. Only the child dies then, or is killed when its time is up; the run goes on.

Rust writes its panics ("index out of bounds", "no entry found for key") and allocation aborts
("memory allocation of … bytes failed", with a stack trace when ``RUST_BACKTRACE`` is set)
straight to file descriptor 2, in English. The child's descriptor 2 (and on Windows its
standard error handle) goes to a temporary file instead of the user's terminal or log; its
first lines come back in :attr:`ChildOutcome.stderr`, for the finding's developer detail.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xlmonitor.privacy import mask_text

__all__ = ["ChildOutcome", "run_in_child"]

_KEPT_LINES = 8      # of the child's stderr: the message and the top of a backtrace
_KEPT_CHARS = 1_500
_READ_BYTES = 64 * 1024


@dataclass
class ChildOutcome:
    """How the child ended: what ``target`` returned, or what it raised (as ``repr``), or
    that it timed out or died (``exitcode``); ``stderr`` is what it wrote there."""

    value: object = None
    raised: str | None = None
    timed_out: bool = False
    exitcode: int | None = None
    stderr: str = ""

    def failure(self) -> str:
        """A developer's description of a child that returned nothing."""
        what = self.raised or f"reader process ended with exit code {self.exitcode}"
        return f"{what}; stderr: {self.stderr}" if self.stderr else what


def run_in_child(target: Callable[..., object], args: tuple, *, seconds: float,
                 memory_bytes: int) -> ChildOutcome:
    """``target(*args)`` in a child process (fork where there is one: it starts in
    milliseconds), killed after ``seconds``, its address space capped at the parent's plus
    ``memory_bytes``. ``target`` and its result must pickle where there is no fork."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    handle, stderr_path = tempfile.mkstemp(prefix="xlmonitor-reader-", suffix=".txt")
    os.close(handle)
    outcome = ChildOutcome()
    try:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child_main, daemon=True,
                                args=(target, args, memory_bytes, stderr_path, sender))
        child.start()
        sender.close()
        try:
            if receiver.poll(seconds):
                kind, payload = receiver.recv()
                if kind == "value":
                    outcome.value = payload
                else:
                    outcome.raised = payload
            else:
                outcome.timed_out = True
        except (EOFError, OSError):
            pass
        finally:
            receiver.close()
            child.join(timeout=0 if outcome.timed_out else 5)
            if child.is_alive():
                child.kill()
                child.join()
        outcome.exitcode = child.exitcode
        outcome.stderr = _kept(Path(stderr_path))
    finally:
        Path(stderr_path).unlink(missing_ok=True)
    return outcome


def _kept(path: Path) -> str:
    """The first lines the child wrote to stderr, on one line, personal data masked (a panic
    message can quote a cell)."""
    try:
        with path.open("rb") as handle:
            text = handle.read(_READ_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:_KEPT_LINES]
    return mask_text(" | ".join(lines))[:_KEPT_CHARS]


def _child_main(target: Callable[..., object], args: tuple, memory_bytes: int,
                stderr_path: str, sender) -> None:
    _stderr_to(stderr_path)
    faulthandler.disable()  # an abort here is reported by the parent; no stack dump
    _cap_memory(memory_bytes)
    try:
        sender.send(("value", target(*args)))
    except BaseException as exc:  # noqa: B036 - a Rust panic is a BaseException
        sender.send(("raised", repr(exc)))
    finally:
        sender.close()


def _stderr_to(path: str) -> None:
    """Send this process's standard error, at the descriptor level where Rust writes, to
    ``path``."""
    try:
        sys.stderr.flush()
        handle = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(handle, 2)
        os.close(handle)
        if sys.platform == "win32":  # Rust asks Windows for the handle, not the C runtime
            import ctypes
            import msvcrt

            ctypes.windll.kernel32.SetStdHandle(-12, msvcrt.get_osfhandle(2))  # STD_ERROR
    except (OSError, AttributeError, ValueError):
        pass


def _cap_memory(extra: int) -> None:
    """Let this (child) process grow by at most ``extra`` bytes of address space: a failed
    allocation then aborts the child quickly instead of pushing the machine into swap."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (current + extra, current + extra))
    except (ImportError, OSError, ValueError):  # not Linux: the time limit still holds
        pass
