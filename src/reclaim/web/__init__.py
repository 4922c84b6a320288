"""The server-rendered web UI (faces layer): Jinja2 pages over the same services as the API."""
