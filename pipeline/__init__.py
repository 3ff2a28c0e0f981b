"""Escalation-signal pipeline: news feeds -> scored sentences -> daily actor signals -> alerts."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import zlib
from pathlib import Path
from types import ModuleType

__version__ = "0.1.0"

_COMPILED_RECORD = "_compiled.json"  # written by setup.py beside the modules mypyc compiled


def _digest(data: bytes) -> str:
    """setup.py's source_digest: length and CRC-32 of a source file."""
    return f"{len(data)}:{zlib.crc32(data):08x}"


def built_sources(package: Path) -> dict[str, Path]:
    """The modules of `package` with a compiled build beside their source: module name -> its source file."""
    builds = {
        path.name[: -len(suffix)]
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        for path in package.glob(f"*{suffix}")
        if path.name.endswith(suffix)
    }
    return {name: package / f"{name}.py" for name in builds if (package / f"{name}.py").is_file()}


def stale_builds(package: Path) -> dict[str, Path]:
    """The modules of `package` with a compiled build beside them that was not built from their source as it
    is now (edited after the build, or no record of it): module name -> its source file."""
    sources = built_sources(package)
    if not sources:
        return {}
    try:
        record = json.loads((package / _COMPILED_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    return {
        name: source
        for name, source in sources.items()
        if record.get(name) != _digest(source.read_bytes())
    }


class _SourceFirst:
    """Imports the listed modules from their .py source, ahead of a compiled build beside it (a meta path
    finder; not a subclass of importlib.abc's, whose import costs every command ten milliseconds)."""

    def __init__(self, sources: dict[str, Path]):
        self.sources = sources

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        return importlib.util.spec_from_file_location(fullname, source) if source else None


def run_stale_builds_from_source(package: Path, package_name: str) -> list[str]:
    """Make compiled builds unreachable once one of them no longer matches its source: every built module then
    runs as Python. The builds call each other natively (the compiled scorer builds and reads the compiled
    matcher's automaton class), so a compiled module beside another one's source would crash. Returns the
    stale modules."""
    stale = stale_builds(package)
    if stale:
        sources = built_sources(package)
        sys.meta_path.insert(0, _SourceFirst({f"{package_name}.{name}": path for name, path in sources.items()}))
        # One line on stderr, not a warning with its source line: every command of a checkout in this state shows it.
        sys.stderr.write(
            f"{package_name}: {', '.join(sorted(stale))} changed since compiled; running "
            f"{', '.join(sorted(sources))} as Python (make install compiles them again)\n"
        )
    return sorted(stale)


run_stale_builds_from_source(Path(__file__).parent, __name__)
