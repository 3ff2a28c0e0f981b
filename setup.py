"""Build hook: the scorer's two hot modules compiled to C with mypyc (pyproject.toml holds everything else).

`escalation score` spends its time in pipeline/score.py and pipeline/matching.py; compiled, a sentence scores
in about three fifths of the time (BENCHMARKS.md: 35,000 sentences a second before, 56,000-65,000 after). The
compiled modules sit beside their sources, and pipeline/_compiled.json records which source each was built
from: pipeline/__init__.py runs a source that has changed since (a checkout edited after `make install`) as plain
Python instead of its stale build.

ESCALATION_PURE_PYTHON=1 builds without compiling; so does a machine without a C compiler (the extensions
are optional: their build may fail and the install goes on, pure Python).

Every build (compiled or not) also parses the packaged lexicon once and stores the mapping in
pipeline/_lexicon.pickle with the digest of the text it parsed: pipeline.score.load_lexicon takes it from there
while the file is unchanged, instead of importing PyYAML and parsing at the start of every process.
"""

from __future__ import annotations

import json
import os
import pickle
import zlib
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

COMPILED = ("pipeline/matching.py", "pipeline/score.py")
RECORD = "_compiled.json"
LEXICON = "pipeline/data/lexicon.yaml"
PARSED_LEXICON = "_lexicon.pickle"  # pipeline.score.PARSED_AT_BUILD


def source_digest(data: bytes) -> str:
    """What pipeline/__init__.py compares: the source's length and CRC-32 (an edit, not an attack, is the
    concern; hashlib's import would cost every command a few milliseconds)."""
    return f"{len(data)}:{zlib.crc32(data):08x}"


def source_digests() -> dict[str, str]:
    return {Path(source).stem: source_digest(Path(source).read_bytes()) for source in COMPILED}


class BuildExtWithRecord(build_ext):
    """build_ext that also writes, beside the compiled modules, the digests of the sources they came from."""

    def run(self) -> None:
        super().run()
        built = Path(self.get_ext_fullpath("pipeline.score")).parent
        if not built.is_dir():
            return
        compiled = {
            name: digest for name, digest in source_digests().items() if any(built.glob(f"{name}.*.so"))
        }
        text = json.dumps(compiled, indent=1, sort_keys=True) + "\n"
        write_to_package(built, RECORD, text.encode("utf-8"), self.inplace or getattr(self, "editable_mode", False))


def write_to_package(built: Path, name: str, data: bytes, into_checkout: bool) -> None:
    """Write `name` into the built package and, for an in-place or editable build (which builds elsewhere and
    whose package is the checkout's), into the checkout's pipeline/ too."""
    targets = {(built / name).resolve()}
    if into_checkout:
        targets.add(Path("pipeline", name).resolve())
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def parsed_lexicon() -> bytes | None:
    """The packaged lexicon's mapping with the digest of its text, pickled; None without PyYAML (a build
    without isolation in an environment that lacks it: the scorer then parses the file itself)."""
    try:
        import yaml
    except ImportError:
        print("setup.py: PyYAML missing, not storing the parsed lexicon; the scorer parses it at start-up")
        return None
    raw = Path(LEXICON).read_bytes()
    data = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return pickle.dumps({"source": source_digest(raw), "lexicon": data}, protocol=pickle.HIGHEST_PROTOCOL)


class BuildPyWithLexicon(build_py):
    """build_py that also stores the parsed lexicon in the built package (and in the checkout for an editable
    install, whose package is the checkout's)."""

    def run(self) -> None:
        super().run()
        payload = parsed_lexicon()
        if payload is not None:
            write_to_package(
                Path(self.build_lib, "pipeline"), PARSED_LEXICON, payload, getattr(self, "editable_mode", False)
            )


def extensions() -> list:
    if os.environ.get("ESCALATION_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify

        # One group per module: no shared library outside the package. Imports of other pipeline modules
        # are read for their types only (--follow-imports=silent); the build needs none of the dependencies.
        built = mypycify(
            ["--ignore-missing-imports", "--follow-imports=silent", *COMPILED], opt_level="3", separate=True
        )
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error it cannot compile
        print(f"setup.py: not compiling the scorer ({type(exc).__name__}: {exc}); installing pure Python")
        return []
    for extension in built:
        extension.optional = True  # no compiler: a pure-Python install
    return built


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExtWithRecord, "build_py": BuildPyWithLexicon})
