"""Continuation paging with ``tr_cont`` and ``ctx_area_fk100``/``ctx_area_nk100`` (§3.3).

A page that has more after it answers header ``tr_cont`` ``F`` (first page) or ``M``
(a later page); the last page answers ``D`` (it was also the first) or ``E``. The next
request sends header ``tr_cont: N`` and the two CTX values back. NK100 holds the key of the
last row sent (keyset paging, so rows added meanwhile never shift a page); both values are
space-padded to 100 characters as KIS sends them, and accepted stripped too. Without
``tr_cont: N`` the CTX values are ignored and the first page comes back ⚠. Which letter a
first page with more after it carries is a setting (``first``: ``F`` by default, or ``M``) ⚠.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from stock_manager.sim.config import Dialect
from stock_manager.sim.envelope import KisReply, ok
from stock_manager.sim.messages import InputError, Msg
from stock_manager.sim.request import KisRequest

T = TypeVar("T")
WIDTH = 100
CONTINUATION = {(True, True): "F", (True, False): "M", (False, True): "D", (False, False): "E"}


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    tr_cont: str
    fk: str
    nk: str


def _start(
    rows: Sequence[T], key: Callable[[T], str], req: KisRequest, nk_name: str, prefix: str
) -> int | None:
    """Where a continuation starts, or ``None`` for a first page."""
    if req.tr_cont.strip().upper() != "N":
        return None
    cursor = req.get(nk_name).strip()
    if not cursor.startswith(prefix):
        raise InputError(nk_name)
    last = cursor[len(prefix) :]
    for index, row in enumerate(rows):
        if key(row) == last:
            return index + 1
    raise InputError(nk_name)


def paginate(
    rows: Sequence[T],
    key: Callable[[T], str],
    req: KisRequest,
    size: int,
    scope: str,
    fk_name: str = "CTX_AREA_FK100",
    nk_name: str = "CTX_AREA_NK100",
    first_cont: str = "F",
) -> Page[T]:
    """The page of ``rows`` this request asks for; ``scope`` names the query in FK/NK.

    ``first_cont`` is the ``tr_cont`` of a first page that has more after it (F or M)."""
    prefix = f"{scope}^"
    start = _start(rows, key, req, nk_name, prefix)
    first = start is None
    begin = start or 0
    chunk = list(rows[begin : begin + size])
    more = begin + size < len(rows)
    tr_cont = first_cont if more and first else CONTINUATION[(more, first)]
    nk = f"{prefix}{key(chunk[-1])}" if chunk else prefix
    return Page(chunk, tr_cont, scope.ljust(WIDTH), nk.ljust(WIDTH))


def page_reply(dialect: Dialect, page: Page[T], field: str = "output1", **outputs: Any) -> KisReply:
    """A successful query reply carrying one page in ``field`` and its continuation."""
    return ok(
        dialect,
        Msg.QUERY_OK,
        tr_cont=page.tr_cont,
        ctx_area_fk100=page.fk,
        ctx_area_nk100=page.nk,
        **{field: page.rows},
        **outputs,
    )
