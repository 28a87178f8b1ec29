"""Mobile Token server emulator: PowerAuth 3.3 and the Wultra Mobile Token API on loopback.

A real server for tests, development and demos: it verifies signatures, tokens,
ECIES envelopes and timestamps the way the reference server does, keeps its
state in SQLite and has an admin API to create activation codes and operations
and to inject faults. It shares only the protocol primitives with the client.
"""
