"""The KIS Open API adapter: the only code that talks to KIS.

``factory`` builds it from settings; ``KisBroker`` implements ``ports.Broker``; every request
goes through ``KisHttp.request``. See ``docs/kis-adapter.md``.
"""
