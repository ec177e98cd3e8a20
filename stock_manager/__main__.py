"""``python -m stock_manager``: the same as the ``stock-manager`` command."""

from stock_manager.cli.main import main

main()
