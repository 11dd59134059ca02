"""URLs fit to print: what a message may say about where the bot connects, never the credentials."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_url(url: str) -> str:
    """A URL fit to print: scheme, host, port and path, never credentials or a query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def url_password(url: str) -> list[str]:
    """The password in `url` as written and percent-decoded (both, when they differ), to mask wherever text
    leaves the bot; empty when there is none."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    if not password:
        return []
    return sorted({password, unquote(password)}, key=len, reverse=True)
