"""The feed list (feeds.yaml): which feeds a cycle ingests. Local paths resolve against the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from pipeline.parse import host_key


class FeedListError(ValueError):
    """The feed list cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class FeedSpec:
    name: str
    url: str
    region: str | None = None
    language: str | None = None


def outlet_key(feed_url: str) -> str:
    """The outlet a feed belongs to, for counting independent outlets: the feed URL's host as
    `parse.host_key` gives it (lower case, a port unless the default one), a leading "www." dropped, so BBC's world and Middle East feeds are one outlet;
    a URL without a host (a local file, an archive's ``archive:<outlet>``) is its own outlet."""
    host = host_key(feed_url)
    return host.removeprefix("www.") if host else feed_url


def _resolve(raw: str, base: Path, where: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise FeedListError(f"{where}: URL {raw!r} has no host")
        return raw
    if parts.scheme == "file":
        return raw
    if len(parts.scheme) > 1:
        raise FeedListError(
            f"{where}: unsupported scheme {parts.scheme!r} in {raw!r} (http, https or a local path)"
        )
    path = Path(raw).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def load_feed_list(path: Path) -> list[FeedSpec]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FeedListError(f"feed list not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedListError(
            f"cannot read feed list {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FeedListError(
            f"feed list {path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(data, dict) or "feeds" not in data:
        raise FeedListError(f"feed list {path}: expected a mapping with a 'feeds:' list")
    entries = data["feeds"] or []
    if not isinstance(entries, list):
        raise FeedListError(f"feed list {path}: 'feeds' must be a list")
    specs: list[FeedSpec] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"feed list {path}, feed #{number}"
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict) or not str(entry.get("url") or "").strip():
            raise FeedListError(f"{where}: needs a 'url'")
        url = _resolve(str(entry["url"]).strip(), path.parent, where)
        if url in seen:
            raise FeedListError(f"{where}: duplicate url {url}")
        seen.add(url)
        specs.append(
            FeedSpec(
                name=str(entry.get("name") or url),
                url=url,
                region=entry.get("region"),
                language=entry.get("language"),
            )
        )
    return specs
