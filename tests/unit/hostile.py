"""Shared tools for tests that feed the system hostile input (issue 11).

* ``PROPERTY``: the Hypothesis settings of every property test here. The ``deadline`` is the
  proof of bounded time: one slow parse (the 11 s ``1e500000`` of the issue) fails the test.
* ``HOSTILE_NUMBERS``: numbers written to hurt (huge exponents, millions of digits, digits
  from other scripts, NaN), mixed into every generated value.
* ``json_values()``: anything ``json.loads`` can return, hostile numbers included.
* ``bounded_memory()``: caps the address space while a block runs, so a parser that trusts
  a count fails with ``MemoryError`` instead of taking the machine down.
"""

from __future__ import annotations

import contextlib
import resource
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=150,
    deadline=timedelta(milliseconds=500),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

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
