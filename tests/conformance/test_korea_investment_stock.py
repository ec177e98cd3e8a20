"""korea-investment-stock 0.19.0 against the simulator (live only: it has no paper mode).

It is a market-data client: token, quotes, stock info, charts and ranking; it has no orders,
balance, history or WebSocket. Pointing it here: its constructor hard-codes KIS's live host
and issues a token at once, so the test wraps its ``TokenManager`` to swap that URL for the
simulator's before the first request, sets ``base_url`` afterwards, and keeps the token in a
temporary file (``FileTokenStorage``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import korea_investment_stock.korea_investment_stock as kis_module
import pytest
from korea_investment_stock import FileTokenStorage, KoreaInvestment

from stock_manager.domain.clock import KST
from tests.conformance.conftest import SYMBOL, StartSim


@pytest.fixture(scope="module")
def broker(
    start_sim: StartSim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KoreaInvestment]:
    server = start_sim()
    config = server.config
    real_manager = kis_module.TokenManager

    def to_simulator(**kw: Any) -> Any:
        return real_manager(**{**kw, "base_url": server.rest_url})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kis_module, "TokenManager", to_simulator)
        client = KoreaInvestment(
            api_key=config.app_key,
            api_secret=config.app_secret,
            acc_no=config.account,
            token_storage=FileTokenStorage(tmp_path_factory.mktemp("kis") / "token.key"),
        )
        client.base_url = server.rest_url
        yield client


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["rt_cd"] == "0", reply
    return reply


def test_token(broker: KoreaInvestment) -> None:
    assert broker.access_token.startswith("Bearer ")


def test_price(broker: KoreaInvestment) -> None:
    assert int(ok(broker.fetch_price(SYMBOL))["output"]["stck_prpr"]) > 0


def test_stock_info(broker: KoreaInvestment) -> None:
    output = ok(broker.fetch_stock_info(SYMBOL))["output"]
    assert (output["shtn_pdno"], output["prdt_abrv_name"]) == (SYMBOL, "삼성전자")


def test_stock_info_of_an_unknown_code_is_no_data(broker: KoreaInvestment) -> None:
    assert broker.fetch_stock_info("999999") is None  # rt_cd 7 on every product type


def test_search_stock_info(broker: KoreaInvestment) -> None:
    output = ok(broker.fetch_search_stock_info(SYMBOL))["output"]
    assert output["mket_id_cd"] == "STK" and int(output["lstg_stqt"]) > 0


def test_daily_chart_with_default_dates(broker: KoreaInvestment) -> None:
    rows = ok(broker.fetch_domestic_chart(SYMBOL))["output2"]  # both dates empty
    assert len(rows) == 100 and rows[0]["stck_bsop_date"] == datetime.now(KST).strftime("%Y%m%d")


def test_minute_chart_with_the_default_hour(broker: KoreaInvestment) -> None:
    rows = ok(broker.fetch_domestic_minute_chart(SYMBOL))["output2"]  # FID_INPUT_HOUR_1 ""
    assert len(rows) == 30


def test_volume_ranking(broker: KoreaInvestment) -> None:
    rows = ok(broker.fetch_volume_ranking())["output"]
    assert len(rows) == 30 and [r["data_rank"] for r in rows][:3] == ["1", "2", "3"]
