"""The pure core: market rules, state machines, orders, positions and PnL.

Nothing here imports anything but the standard library and other ``domain`` modules
(``tests/unit/test_domain_purity.py`` enforces it). Money is integer won or ``Decimal``;
times are timezone-aware.
"""
