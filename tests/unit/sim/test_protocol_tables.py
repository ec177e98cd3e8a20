"""tr_id tables, the envelope, paging, sessions and configuration: the pure protocol parts."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest

from stock_manager.domain.clock import KST
from stock_manager.sim.config import DIALECTS, SimConfig, SimConfigError
from stock_manager.sim.envelope import ok, stringify
from stock_manager.sim.messages import InputError, Msg
from stock_manager.sim.paging import paginate
from stock_manager.sim.request import KisRequest, body_params
from stock_manager.sim.rest_info import isin
from stock_manager.sim.session import Phase, build_session, phase_at, session_from_json
from stock_manager.sim.trids import PREFIX, SPECS, TrError, paper_tr_id, resolve

NOW = datetime(2026, 11, 20, 11, 0, tzinfo=KST)


@pytest.mark.parametrize(
    ("live", "paper"),
    [
        ("TTTC0012U", "VTTC0012U"),
        ("TTTC0802U", "VTTC0802U"),
        ("CTSC9215R", "VTSC9215R"),
        ("FHKST01010100", "FHKST01010100"),
    ],
)
def test_paper_tr_ids_swap_the_first_letter_of_trading_trs(live: str, paper: str) -> None:
    assert paper_tr_id(live) == paper


def test_both_order_tr_id_generations_resolve_with_their_side() -> None:
    path = PREFIX + "trading/order-cash"
    assert resolve("live", "POST", path, "TTTC0802U").variant == "buy"
    assert resolve("live", "POST", path, "tttc0011u").variant == "sell"
    assert resolve("paper", "POST", path, "VTTC0801U").variant == "sell"


def test_paper_lacks_exactly_the_documented_trs() -> None:
    missing = {spec.path.removeprefix(PREFIX) for spec in SPECS if not spec.on_paper}
    assert missing == {
        "quotations/intstock-multprice",
        "quotations/volume-rank",
        "quotations/chk-holiday",
        "trading/inquire-psbl-rvsecncl",
        "trading/inquire-psbl-sell",
        "quotations/search-info",
        "quotations/search-stock-info",
    }
    with pytest.raises(TrError) as caught:
        resolve("paper", "GET", PREFIX + "trading/inquire-balance", "TTTC8434R")
    assert (caught.value.status, caught.value.code) == (500, "EGW02006")


def test_dialect_limits_and_page_sizes() -> None:
    live, paper = DIALECTS["live"], DIALECTS["paper"]
    assert (live.rate_limit, live.balance_page, live.ccld_page, live.rvsecncl_page) == (
        20,
        50,
        100,
        50,
    )
    assert (paper.rate_limit, paper.balance_page, paper.ccld_page) == (2, 20, 15)
    assert paper.order_types == {"00", "01", "02", "03", "04"} < live.order_types
    assert (live.notice_tr_id, paper.notice_tr_id) == ("H0STCNI0", "H0STCNI9")


def test_every_envelope_value_is_a_string() -> None:
    reply = ok("live", Msg.QUERY_OK, output=[{"a": 1, "b": None, "c": [2.5, True]}])
    assert reply.body["output"] == [{"a": "1", "b": "", "c": ["2.50", "True"]}]
    assert stringify({"x": {"y": 3}}) == {"x": {"y": "3"}}


def _req(tr_cont: str = "", nk: str = "") -> KisRequest:
    return KisRequest("GET", "/", "X", tr_cont, NOW, {"CTX_AREA_NK100": nk})


def test_paging_walks_by_key_and_marks_first_middle_last() -> None:
    rows = [f"{n:03d}" for n in range(25)]
    first = paginate(rows, str, _req(), 10, "S")
    second = paginate(rows, str, _req("N", first.nk), 10, "S")
    last = paginate(rows, str, _req("N", second.nk.strip()), 10, "S")
    assert (first.tr_cont, second.tr_cont, last.tr_cont) == ("F", "M", "E")
    assert first.rows + second.rows + last.rows == rows
    assert len(first.fk) == len(first.nk) == 100
    assert paginate(rows[:3], str, _req(), 10, "S").tr_cont == "D"
    with pytest.raises(InputError):
        paginate(rows, str, _req("N", "S^999"), 10, "S")


def test_first_page_letter_can_be_m() -> None:
    rows = [f"{n:03d}" for n in range(25)]
    first = paginate(rows, str, _req(), 10, "S", first_cont="M")
    second = paginate(rows, str, _req("N", first.nk), 10, "S", first_cont="M")
    assert (first.tr_cont, second.tr_cont) == ("M", "M")
    assert paginate(rows[:3], str, _req(), 10, "S", first_cont="M").tr_cont == "D"


def test_layout_and_first_page_options_are_checked() -> None:
    with pytest.raises(SimConfigError, match="ws_layout"):
        SimConfig(ws_layout="new")  # type: ignore[arg-type]
    with pytest.raises(SimConfigError, match="first_page_cont"):
        SimConfig(first_page_cont="X")


@pytest.mark.parametrize(
    ("code", "standard"), [("005930", "KR7005930003"), ("000660", "KR7000660001")]
)
def test_standard_codes_carry_the_isin_check_digit(code: str, standard: str) -> None:
    assert isin(code) == standard


def test_strict_bodies_want_uppercase_string_values() -> None:
    assert body_params({"CANO": "1"}, strict=True) == {"CANO": "1"}
    with pytest.raises(InputError):
        body_params({"cano": "1"}, strict=True)
    with pytest.raises(InputError):
        body_params({"ORD_QTY": 1}, strict=True)
    assert body_params({"ord_qty": 1}, strict=False) == {"ORD_QTY": "1"}


def test_sessions_regular_compressed_and_explicit() -> None:
    regular = build_session(SimConfig(), NOW)
    assert (
        regular.opens_at.time(),
        regular.continuous_ends_at.time(),
        regular.auction_ends_at.time(),
    ) == (time(9), time(15, 20), time(15, 30))
    short = build_session(SimConfig(session_minutes=2), NOW)
    assert (
        short.opens_at == NOW and (short.auction_ends_at - short.continuous_ends_at).seconds == 10
    )
    assert [
        phase_at(regular, NOW.replace(hour=h, minute=m))
        for h, m in ((8, 59), (9, 0), (15, 25), (15, 30))
    ] == [Phase.PRE, Phase.CONTINUOUS, Phase.AUCTION, Phase.CLOSED]
    moved = session_from_json(
        NOW, {"opens_at": "12:00", "continuous_ends_at": "12:30:00", "auction_seconds": 30}
    )
    assert (
        moved.opens_at.hour == 12
        and (moved.auction_ends_at - moved.continuous_ends_at).seconds == 30
    )


def test_config_validation_names_the_problem() -> None:
    with pytest.raises(SimConfigError, match="account"):
        SimConfig(account="1234")
    with pytest.raises(SimConfigError, match="go together"):
        SimConfig(session_open=time(9))
    config = SimConfig(env="paper")
    assert (config.cano, config.product_code, config.effective_rate_limit) == ("12345678", "01", 2)
    assert SimConfig(rate_limit=0).effective_rate_limit == 0


def test_symbols_file_lines(tmp_path: Path) -> None:
    from stock_manager.sim.universe import UniverseError, from_file, generated

    listing = tmp_path / "symbols.txt"
    listing.write_text("# code,name,close\n005930,삼성전자,71500\n000660 SK하이닉스\n\n035720\n")
    specs = from_file(listing, seed=1)
    assert [(s.code, s.name) for s in specs] == [
        ("005930", "삼성전자"),
        ("000660", "SK하이닉스"),
        ("035720", "035720"),
    ]
    assert specs[0].prev_close == 71_500
    listing.write_text("12\n")
    with pytest.raises(UniverseError, match="line 1"):
        from_file(listing, seed=1)
    assert [s.code for s in generated(32, 1)][30:] == ["950030", "950031"]
