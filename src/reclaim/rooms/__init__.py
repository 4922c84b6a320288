"""Rooms, their messages and actors: recording, request-output pairs, listings, Telegram ingest and monitoring."""
