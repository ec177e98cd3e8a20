"""Backtests over recorded candles through the code that trades live (issue 17).

``engine`` runs days event by event, calling the same strategy objects, exit policy
(``services.prices.exit_verdict``), scan decisions (``services.scan``), risk checks
(``domain.risk.check_entry``), KRX rules (``domain.krx``, ``domain.session``) and fee code
(``domain.fees``) as the live services; ``fills`` is the one part live does not have: the
model of how the exchange would have filled our orders. See ``docs/backtest.md``.
"""
