"""``stock-manager replay``: a recorded day through the real pipeline, beside the backtest.

``day`` reads a recorded day from a market-data directory (``docs/market-data.md``) into the
simulator's shape and the backtest's; ``compare`` pairs the replay's round trips with the
backtest's and explains each difference; ``runner`` runs the day with the demo's processes.
See ``docs/replay.md``.
"""
