"""History of samples and what can be derived from it. Plain Python: no I/O, no asyncio."""
