"""The KIS-compatible simulator: a real HTTP + WebSocket server speaking the KIS wire protocol.

It shares only pure market rules with the rest of the system (``stock_manager.domain``) and
never imports the KIS client, so it can catch the client's mistakes. ``docs/simulator.md``
describes what it implements and where it differs from KIS.
"""

from stock_manager.sim.config import SimConfig
from stock_manager.sim.faults import FaultProfile

__all__ = ["FaultProfile", "SimConfig", "SimServer"]


def __getattr__(name: str) -> object:
    # The server pulls in aiohttp; load it only when asked for.
    if name == "SimServer":
        from stock_manager.sim.server import SimServer

        return SimServer
    raise AttributeError(name)
