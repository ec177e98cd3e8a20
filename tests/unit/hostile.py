"""Shared tools for tests that feed the system hostile input (issue 11).

* ``PROPERTY``: the Hypothesis settings of every property test here, and ``cpu_bounded``,
  which every such test wears under ``@given``: each example may spend at most
  ``CPU_LIMIT`` seconds of this process's CPU, the proof of bounded time (one slow parse,
  like the 11 s ``1e500000`` of the issue, fails the test). CPU time, not wall time, so a
  machine busy with other work cannot fail it.
* ``HOSTILE_NUMBERS``: numbers written to hurt (huge exponents, millions of digits, digits
  from other scripts, NaN), mixed into every generated value.
* ``json_values()``: anything ``json.loads`` can return, hostile numbers included.
* ``bounded_memory()``: caps the address space while a block runs, so a parser that trusts
  a count fails with ``MemoryError`` instead of taking the machine down.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import resource
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CPU_LIMIT = 0.5  # seconds of this process's CPU per example

PROPERTY = settings(
    max_examples=150,
    deadline=None,  # wall time depends on the machine's load: cpu_bounded measures CPU time
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _cpu_timed(test: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> tuple[_R, float]:
    started = time.process_time()
    result = test(*args, **kwargs)
    return result, time.process_time() - started


def cpu_bounded(test: Callable[_P, _R]) -> Callable[_P, _R]:
    """Fail an example that spends more than ``CPU_LIMIT`` seconds of CPU (put under ``@given``)."""

    @functools.wraps(test)
    def timed(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        result, spent = _cpu_timed(test, *args, **kwargs)
        if spent >= CPU_LIMIT:
            # A collection or a cache-cold start can bill one run a few tenths of a second; a
            # parse that is slow by construction is slow every time, so the faster of two runs
            # is the honest figure (a pathological input costs seconds, not 0.6 s).
            gc.collect()  # earlier examples' garbage is not this example's cost
            result, again = _cpu_timed(test, *args, **kwargs)
            spent = min(spent, again)
        assert spent < CPU_LIMIT, f"took {spent:.2f} s of CPU (limit {CPU_LIMIT} s)"
        return result

    return timed


HOSTILE_NUMBERS: tuple[str, ...] = (
    "1e500000",
    "-1E+999999999",
    "1e-999999999",
    "0e-999999",
    "9" * 10**6,
    "1" * 4301,
    "0." + "0" * 5000 + "1",
    "1" + "," * 10_000,
    "NaN",
    "-sNaN",
    "Infinity",
    "+inf",
    "٣٤٥",  # Arabic-Indic digits: str.isdigit() and int() accept them
    "²",  # isdigit() is true, int() refuses it
    "1_000",
    "0x10",
    "+,",
    "--1",
    "1e",
    " ",
    "\x00",
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.from_regex(r"\A[+-]?[0-9,]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,12})?\Z"),
    st.sampled_from(HOSTILE_NUMBERS),
)


def json_values(keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Anything JSON can carry; object keys from ``keys`` (or any text)."""
    names = keys if keys is not None else st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=6),
        max_leaves=25,
    )


@contextlib.contextmanager
def bounded_memory(extra_mb: int = 512) -> Iterator[None]:
    """Let the block allocate at most about ``extra_mb`` more MiB (Linux; elsewhere no cap)."""
    if not sys.platform.startswith("linux"):
        yield
        return
    with open("/proc/self/status", encoding="ascii") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = (size_kb + extra_mb * 1024) * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
