"""A PowerAuth 3.3 mobile-token client with the Wultra Mobile Token API.

Pure Python on top of ``cryptography`` and ``aiohttp``; nothing here imports
Home Assistant, so the same code serves the integration, the command-line
client and the server emulator's shared primitives.
"""
