"""Celery tasks: thin adapters that take plain ids and strings and call one service.

No business decisions live here; see ``stock_manager/services``.
"""
