"""Typed records of migration.json and the catalogs of capabilities and parameters.

Plain Python: no I/O, no asyncio, no Textual.
"""
