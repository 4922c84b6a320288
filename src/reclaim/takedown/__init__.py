"""Takedown: destinations, request documents, status history and re-upload watch; hash sharing."""
