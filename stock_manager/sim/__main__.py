"""``python -m stock_manager.sim``: the same as ``stock-manager sim``."""

from stock_manager.sim.cli import sim

if __name__ == "__main__":
    sim(prog_name="python -m stock_manager.sim")
