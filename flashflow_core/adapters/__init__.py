"""Adapters to outside tools (yt-dlp, Whisper, OCR, OpenAI, storage) behind small interfaces.

Adapters never touch the database; domain code never imports the tools themselves.
`flashflow_core.adapters.toolkit` picks implementations from settings.
"""
