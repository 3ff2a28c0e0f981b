"""Extract stage: an article page (bytes or text, and its URL) to its main text and metadata.

Pure: no network, no database, no module-level mutable state; never raises on bad input. A page that
yields nothing comes back with `error` set to one short reason (see `ERRORS`) and `text == ""`.

How a page is read:
1. What it is: a Content-Type that names something else (PDF, image, JSON...) or bytes that start
   like a PDF, image or archive are "not HTML"; so is text without any HTML markup.
2. Its characters (`decode_html`): a byte-order mark wins; then bytes that are valid UTF-8 are read
   as UTF-8 whatever the page declares (a page declared iso-8859-1 that is really UTF-8 is the common
   mislabelling, and non-ASCII text in a legacy encoding is practically never valid UTF-8); then the
   HTTP header charset, then the <meta> charset (iso-8859-1 and ascii read as windows-1252, as
   browsers do); then a statistical guess (charset_normalizer); then windows-1252.
3. The main text: trafilatura (comments excluded; embedded posts such as tweets kept, they are
   quoted statements), then our general cleaning on its block tree: the headline and a standfirst
   repeated at the top, and boilerplate blocks and sections named in `data/page_boilerplate.yaml`
   (share blocks, comment forms and their notes, related posts, cookie and newsletter prompts,
   copyright footers, bylines, captions). Every dropped block is listed in `ExtractedPage.dropped`
   with the rule that dropped it.
4. Metadata: title and author from trafilatura; published time from the page's own machine-readable
   dates (article:published_time, JSON-LD datePublished, <time itemprop>), else trafilatura's date
   (midnight UTC); language as below.

Language (ISO 639-1): the page's declaration (<html lang>, Content-Language, og:locale) and a
detection on the extracted text (py3langid, whose model ships in the package). A confident detection
on enough text wins over the declaration, because templates often declare the site's language for
every page; a short text keeps its declaration. The scorer's lexicon is English, so only English or
undetermined bodies are scored (`is_scored_language`): a French body is stored with its language, but
scoring it would only dilute the day's signal with zeros and spurious English-looking matches.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import yaml

from pipeline import interrupts

EXTRACTOR = "trafilatura"
DEFAULT_BOILERPLATE = Path(__file__).parent / "data" / "page_boilerplate.yaml"

# Reasons a page yields no text (ExtractedPage.error); short and stable, so the store can count them.
EMPTY_INPUT = "empty input"
NOT_HTML = "not HTML"
UNDECODABLE = "undecodable"
TOO_LARGE = "too large"
EMPTY_EXTRACTION = "empty extraction"
EXTRACTION_FAILED = "extraction failed"
ERRORS = (EMPTY_INPUT, NOT_HTML, UNDECODABLE, TOO_LARGE, EMPTY_EXTRACTION, EXTRACTION_FAILED)

SCORED_LANGUAGES = frozenset({"en"})  # the lexicon's language
MIN_TEXT_CHARS = 20  # less than this after cleaning is an empty extraction
# The fetchers cap bodies well below this; a caller handing over more gets a reason, not a parse.
MAX_INPUT_BYTES = 20 * 1024 * 1024
MAX_EMBEDDED_POSTS = 50
# Language detection: how much text it needs before it may overrule the page's declaration.
DETECT_SAMPLE_CHARS = 3000
DETECT_MIN_CHARS = 200
DETECT_MIN_CONFIDENCE = 0.95
DETECT_ALONE_MIN_CONFIDENCE = 0.8  # no declaration: a weaker detection is still better than nothing

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Media types that say nothing about the body (or may be XHTML): decided by looking at the bytes.
SNIFFED_MEDIA_TYPES = frozenset(
    {
        "text/plain",
        "application/octet-stream",
        "binary/octet-stream",
        "application/unknown",
        "application/xml",
        "text/xml",
        "application/x-unknown-content-type",
    }
)
_BINARY_MAGIC = (
    b"%PDF-",
    b"%!PS",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"RIFF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x00\x00\x00\x0cjP",
    b"II*\x00",
    b"MM\x00*",
    b"\xd0\xcf\x11\xe0",  # legacy Office documents
    b"wOFF",
    b"wOF2",
    b"OggS",
    b"ID3",
    b"\x7fELF",
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Declared names that browsers read as windows-1252 (a superset that only adds printable characters).
_AS_WINDOWS_1252 = frozenset({"iso8859-1", "latin-1", "ascii", "cp1252", "iso8859-15"})
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_MARKUP = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|link|script|style|div|p|article|section|main|header|"
    r"nav|span|a|h[1-6]|table|ul|ol|li|br|img|form|!--)[\s>/]",
    re.IGNORECASE,
)
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
MAX_UNREADABLE_SHARE = 0.02  # more replacement/control characters than this: undecodable
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_LANGUAGE_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")

# The leaf blocks of trafilatura's output tree that cleaning judges one by one.
_BLOCK_TAGS = frozenset({"p", "head", "item", "quote", "cell"})
_STANDFIRST_MIN_WORDS = 8


@dataclass(frozen=True)
class DroppedBlock:
    """A block the cleaning removed, and the rule that removed it (the extraction explains itself)."""

    rule: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "text": self.text}


@dataclass(frozen=True)
class ExtractedPage:
    url: str | None
    title: str | None
    text: str  # paragraphs separated by a blank line; "" when error is set
    published: datetime | None  # timezone-aware UTC
    author: str | None
    language: str | None  # ISO 639-1
    language_source: str | None  # "declared" (also when detection agrees) | "detected" | None
    encoding: str | None  # the codec the bytes were read with
    extractor: str
    extractor_version: str  # trafilatura's version + our cleaning rules' version
    error: str | None = None  # one of ERRORS
    dropped: tuple[DroppedBlock, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "text": self.text,
            "published": self.published.isoformat() if self.published else None,
            "author": self.author,
            "language": self.language,
            "language_source": self.language_source,
            "encoding": self.encoding,
            "extractor": self.extractor,
            "extractor_version": self.extractor_version,
            "error": self.error,
            "dropped": [block.to_dict() for block in self.dropped],
        }


def is_scored_language(language: str | None) -> bool:
    """Whether a body in this language is scored: English, or undetermined (too short to tell)."""
    return language is None or language in SCORED_LANGUAGES


@dataclass(frozen=True)
class ExtractOptions:
    """How a page is extracted; the defaults are the measured choice (BENCHMARKS.md, "Article extraction")."""

    favor_precision: bool = False  # trafilatura's own switches (measured: both lose to the default here)
    favor_recall: bool = False
    keep_embedded_posts: bool = True  # tweets quoted in the article stay in its text
    drop_headline: bool = True  # the headline and standfirst repeated at the top of the body
    clean_boilerplate: bool = True  # the rules of data/page_boilerplate.yaml


# -- cleaning rules (data) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BoilerplateRules:
    version: str
    blocks: tuple[tuple[str, re.Pattern[str]], ...]
    sections: tuple[tuple[str, re.Pattern[str]], ...]
    min_body_share_before_section: float

    def without(self, *groups: str) -> BoilerplateRules:
        """The same rules minus some groups ("block:share", "section:related", ...): for ablations."""
        return dataclasses.replace(
            self,
            blocks=tuple(rule for rule in self.blocks if rule[0] not in groups),
            sections=tuple(rule for rule in self.sections if rule[0] not in groups),
        )

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for name, _ in self.blocks + self.sections))

    def block_rule(self, text: str) -> str | None:
        for name, pattern in self.blocks:
            if pattern.fullmatch(text):
                return name
        return None

    def section_rule(self, text: str) -> str | None:
        for name, pattern in self.sections:
            if pattern.fullmatch(text):
                return name
        return None


def _compile_group(group: Any, path: Path, key: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    if not isinstance(group, Mapping):
        raise ValueError(f"{path}: `{key}` must map rule names to lists of patterns")
    compiled = []
    for name, patterns in group.items():
        for pattern in patterns or ():
            try:
                compiled.append((f"{key[:-1]}:{name}", re.compile(pattern, re.IGNORECASE | re.DOTALL)))
            except re.error as exc:
                raise ValueError(f"{path}: {key}.{name}: bad pattern {pattern!r}: {exc}") from None
    return tuple(compiled)


@functools.lru_cache(maxsize=4)
def load_boilerplate(path: Path | None = None) -> BoilerplateRules:
    """The cleaning rules of a boilerplate file, compiled once per path and process."""
    rules_path = Path(path) if path else DEFAULT_BOILERPLATE
    data = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or "version" not in data:
        raise ValueError(f"{rules_path}: top level must be a mapping with a `version`")
    return BoilerplateRules(
        version=str(data["version"]),
        blocks=_compile_group(data.get("blocks", {}), rules_path, "blocks"),
        sections=_compile_group(data.get("sections", {}), rules_path, "sections"),
        min_body_share_before_section=float(data.get("min_body_share_before_section", 0.5)),
    )


@functools.cache
def _trafilatura_version() -> str:
    import trafilatura

    return trafilatura.__version__


def extractor_version(rules: BoilerplateRules | None = None) -> str:
    """E.g. "2.3.1+clean.1": trafilatura's version and our cleaning rules' version."""
    return f"{_trafilatura_version()}+clean.{(rules or load_boilerplate()).version}"


# -- bytes to characters -------------------------------------------------------------------------------
def parse_content_type(content_type: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) of a Content-Type header value; either may be None."""
    if not content_type:
        return None, None
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return (media.strip().lower() or None), charset


def _codec(name: str | None) -> str | None:
    """Python's codec for a declared charset name, or None when Python does not know it."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        return None
    return "cp1252" if codec in _AS_WINDOWS_1252 else codec


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _readable(text: str) -> bool:
    sample = text[:100_000]
    return not sample or len(_UNREADABLE.findall(sample)) / len(sample) <= MAX_UNREADABLE_SHARE


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: ASCII markup then has a NUL in every other byte."""
    head = data[:2048]
    if len(head) < 16 or head.count(0) < len(head) // 3:
        return None
    return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"


def decode_html(data: bytes, declared_charset: str | None = None) -> tuple[str, str] | None:
    """(text, codec) of a page's bytes, or None when no reading gives sensible characters.

    Order: byte-order mark; valid UTF-8 (whatever is declared); the header charset, then the
    <meta> charset; a statistical guess; windows-1252.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(codec, "replace")
            return (text, codec) if _readable(text) else None
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        text = data.decode(utf16, "replace")
        return (text, utf16) if _readable(text) else None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return (text, "utf-8") if _readable(text) else None
    candidates = [_codec(declared_charset), _codec(_meta_charset(data))]
    try:
        from charset_normalizer import from_bytes

        guess = from_bytes(data[:200_000]).best()
        candidates.append(_codec(guess.encoding) if guess is not None else None)
    except Exception:  # a guess is optional: never let the guesser break a page
        pass
    candidates.append("cp1252")
    for codec in dict.fromkeys(c for c in candidates if c and not c.startswith("utf-16")):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if _readable(text):
            return text, codec
    text = data.decode("cp1252", "replace")  # its five undefined bytes become U+FFFD
    return (text, "cp1252") if _readable(text) else None


def _looks_binary(data: bytes) -> bool:
    head = data[:16].lstrip(b"\t\n\r ")
    return head.startswith(_BINARY_MAGIC)


# -- metadata from the page tree ---------------------------------------------------------------------
def language_code(tag: str | None) -> str | None:
    """ISO 639-1 code of a language tag ("en-US" -> "en", "pt_BR" -> "pt"), or None."""
    if not tag:
        return None
    match = _LANGUAGE_TAG.match(tag.split(",")[0])
    if not match:
        return None
    code = match.group(1).lower()
    return code if len(code) == 2 else None


def _declared_language(tree: Any) -> str | None:
    for value in (
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        *tree.xpath('//meta[translate(@http-equiv,"CONTENTLAG","contentlag")="content-language"]/@content'),
        *tree.xpath('//meta[@property="og:locale"]/@content'),
    ):
        code = language_code(value)
        if code:
            return code
    return None


@functools.cache
def _language_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence in [0, 1]) of a text, from py3langid; (None, 0.0) without letters."""
    sample = text[:DETECT_SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return None, 0.0
    code, confidence = _language_identifier().classify(sample)
    return language_code(code), float(confidence)


def _page_language(declared: str | None, text: str) -> tuple[str | None, str | None]:
    detected, confidence = detect_language(text) if text else (None, 0.0)
    if detected and len(text) >= DETECT_MIN_CHARS and confidence >= DETECT_MIN_CONFIDENCE:
        return detected, "declared" if detected == declared else "detected"
    if declared:
        return declared, "declared"
    if detected and confidence >= DETECT_ALONE_MIN_CONFIDENCE:
        return detected, "detected"
    return None, None


_DATE_META_XPATHS = (
    '//meta[@property="article:published_time" or @name="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//*[@itemprop="datePublished"]/@datetime',
    '//meta[@name="pubdate" or @name="publishdate" or @name="publish-date" or @name="parsely-pub-date"'
    ' or @name="sailthru.date" or @name="dc.date.issued" or @name="DC.date.issued" or @name="date"]/@content',
    '//meta[@property="og:published_time"]/@content',
)


def parse_timestamp(value: str | None) -> datetime | None:
    """A timezone-aware UTC datetime from an ISO 8601 timestamp or date; naive times are taken as UTC."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) < 10 or not value[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        try:
            parsed = datetime.combine(datetime.fromisoformat(value[:10]).date(), time())
        except ValueError:
            return None
    if not 1990 <= parsed.year <= 2200:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _json_ld_dates(tree: Any) -> Iterator[str]:
    for script in tree.xpath('//script[@type="application/ld+json"]/text()')[:20]:
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue
        stack, seen = [data], 0
        while stack and seen < 500:
            item, seen = stack.pop(), seen + 1
            if isinstance(item, dict):
                if isinstance(item.get("datePublished"), str):
                    yield item["datePublished"]
                stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
            elif isinstance(item, list):
                stack.extend(item)


def _published(tree: Any, trafilatura_date: str | None) -> datetime | None:
    for xpath in _DATE_META_XPATHS:
        for value in tree.xpath(xpath):
            parsed = parse_timestamp(str(value))
            if parsed:
                return parsed
    for value in _json_ld_dates(tree):
        parsed = parse_timestamp(value)
        if parsed:
            return parsed
    return parse_timestamp(trafilatura_date)


def _keep_embedded_posts(tree: Any) -> None:
    """Unwrap embedded posts (a tweet's <blockquote>) so trafilatura keeps them as quotes.

    Their widget wrappers carry class names ("tweet", "embed", "widget") that trafilatura prunes as
    page furniture, but the post is a statement the article quotes.
    """
    for quote in tree.xpath(
        '//blockquote[contains(@class, "twitter-tweet") or contains(@class, "bluesky-embed")]'
    )[:MAX_EMBEDDED_POSTS]:
        text = _SPACES.sub(" ", quote.text_content()).strip()
        outer = quote
        parent = outer.getparent()
        while (
            parent is not None
            and parent.tag not in ("body", "article", "main")
            and (_SPACES.sub(" ", parent.text_content()).strip() == text)
        ):
            outer, parent = parent, parent.getparent()
        for name in list(quote.attrib):
            del quote.attrib[name]
        if outer is not quote and parent is not None:
            quote.tail = outer.tail
            parent.replace(outer, quote)


# -- cleaning trafilatura's block tree ------------------------------------------------------------------
def _block_text(element: Any) -> str:
    return _SPACES.sub(" ", "".join(element.itertext())).strip()


def _leaf_blocks(body: Any) -> list[Any]:
    """Blocks with no block inside them, in document order."""
    blocks = []
    for element in body.iter(*_BLOCK_TAGS):
        if not any(inner.tag in _BLOCK_TAGS for inner in element.iterdescendants()):
            blocks.append(element)
    return blocks


def _remove(element: Any) -> None:
    """Remove an element but keep the text that follows it (lxml stores it on the element)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _norm_words(text: str | None) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text or "").casefold()))


def _same_text(block: str, other: str | None) -> bool:
    """Whether a block repeats a headline or summary: one contains the other, or most words shared."""
    a, b = _norm_words(block), _norm_words(other)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    words_a, words_b = set(a.split()), set(b.split())
    return len(words_a & words_b) / max(len(words_a | words_b), 1) >= 0.6


def clean_blocks(
    body: Any,
    title: str | None,
    description: str | None,
    rules: BoilerplateRules | None,
    drop_headline: bool = True,
) -> tuple[DroppedBlock, ...]:
    """Drop headline, standfirst and boilerplate blocks from trafilatura's body tree, in place."""
    blocks = _leaf_blocks(body)
    texts = [_block_text(b) for b in blocks]
    words = [len(_WORD.findall(t)) for t in texts]
    total_words = sum(words) or 1
    verdicts: list[str | None] = [None] * len(blocks)

    # The top of the body: the headline (an h1, or a heading repeating the title) and a standfirst
    # (a long heading repeating the page's summary); the benchmark's and any reader's body excludes them.
    first = next((i for i, text in enumerate(texts) if text), None) if drop_headline else None
    if first is not None and blocks[first].tag == "head":
        if blocks[first].get("rend") == "h1" or _same_text(texts[first], title):
            verdicts[first] = "headline"
            first = next((i for i in range(first + 1, len(texts)) if texts[i]), None)
        if (
            first is not None
            and blocks[first].tag == "head"
            and words[first] >= _STANDFIRST_MIN_WORDS
            and _same_text(texts[first], description)
        ):
            verdicts[first] = "standfirst"

    words_before = 0
    in_section: str | None = None
    for i, block in enumerate(blocks):
        text = texts[i]
        if rules is not None and verdicts[i] is None and text:
            # Only a heading opens or closes a section: a short paragraph saying "More" is one block.
            if in_section and block.tag == "head" and not rules.section_rule(text):
                in_section = None
            section = rules.section_rule(text) if block.tag == "head" else None
            if section and words_before >= rules.min_body_share_before_section * total_words:
                in_section = section
                verdicts[i] = section
            elif in_section:
                verdicts[i] = in_section
            else:
                verdicts[i] = rules.block_rule(text)
        words_before += words[i]

    dropped = []
    for block, text, verdict in zip(blocks, texts, verdicts, strict=True):
        if verdict is not None:
            dropped.append(DroppedBlock(verdict, text))
            _remove(block)
    # Containers (lists, tables, quotes) left without any text go too.
    for element in list(body.iter("list", "table", "row", "quote")):
        if element.getparent() is not None and not _block_text(element):
            _remove(element)
    return tuple(dropped)


def render_text(body: Any) -> str:
    """Plain text of a cleaned body: one paragraph per line of trafilatura's text, blank-line separated."""
    from trafilatura.xml import xmltotxt

    raw = xmltotxt(body, include_formatting=False) or ""
    raw = _CONTROL.sub("", unicodedata.normalize("NFC", raw))
    lines = (" ".join(line.split()) for line in raw.split("\n"))
    return "\n\n".join(line for line in lines if line)


# -- the stage ------------------------------------------------------------------------------------------
def _failed(
    url: str | None, error: str, version: str, encoding: str | None = None, **found: Any
) -> ExtractedPage:
    return ExtractedPage(
        url=url,
        title=found.get("title"),
        text="",
        published=found.get("published"),
        author=found.get("author"),
        language=found.get("language"),
        language_source=found.get("language_source"),
        encoding=encoding,
        extractor=EXTRACTOR,
        extractor_version=version,
        error=error,
        dropped=found.get("dropped", ()),
    )


def _clean_field(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = _SPACES.sub(" ", _CONTROL.sub("", value)).strip()
    return value or None


def extract_page(
    html: bytes | str,
    url: str | None = None,
    *,
    content_type: str | None = None,
    rules: BoilerplateRules | None = None,
    options: ExtractOptions | None = None,
) -> ExtractedPage:
    """The main text and metadata of one article page; never raises (a bad page gets `error`).

    `rules` default to data/page_boilerplate.yaml; `options` to the measured choice.
    """
    rules = rules or load_boilerplate()
    options = options or ExtractOptions()
    version = extractor_version(rules)
    media_type, header_charset = parse_content_type(content_type)
    if media_type and media_type not in HTML_MEDIA_TYPES and media_type not in SNIFFED_MEDIA_TYPES:
        return _failed(url, NOT_HTML, version)
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)
        if len(data) > MAX_INPUT_BYTES:
            return _failed(url, TOO_LARGE, version)
        if not data.strip():
            return _failed(url, EMPTY_INPUT, version)
        if _looks_binary(data):
            return _failed(url, NOT_HTML, version)
        decoded = decode_html(data, header_charset)
        if decoded is None:
            return _failed(url, UNDECODABLE, version)
        markup, encoding = decoded
    elif isinstance(html, str):
        markup, encoding = html, None
        if len(markup) > MAX_INPUT_BYTES:
            return _failed(url, TOO_LARGE, version)
        if not _readable(markup):
            return _failed(url, UNDECODABLE, version)
    else:
        return _failed(url, NOT_HTML, version)
    markup = markup.lstrip("\ufeff")
    if not markup.strip():
        return _failed(url, EMPTY_INPUT, version, encoding)
    if not _MARKUP.search(markup[:65536]):
        return _failed(url, NOT_HTML, version, encoding)
    try:
        return _extract(markup, url, encoding, version, rules, options)
    except Exception as exc:  # trafilatura or lxml giving up on a hostile page must not stop a run
        interrupts.reraise_if_stopping(exc)
        return _failed(url, EXTRACTION_FAILED, version, encoding)


def _extract(
    markup: str,
    url: str | None,
    encoding: str | None,
    version: str,
    rules: BoilerplateRules,
    options: ExtractOptions,
) -> ExtractedPage:
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    tree = load_html(markup)
    if tree is None:
        return _failed(url, NOT_HTML, version, encoding)
    declared = _declared_language(tree)
    if options.keep_embedded_posts:
        _keep_embedded_posts(tree)
    document = bare_extraction(
        tree,
        url=url,
        favor_precision=options.favor_precision,
        favor_recall=options.favor_recall,
        with_metadata=True,
        include_comments=False,  # reader comments are not the article
        include_tables=True,
        include_images=False,
    )
    if document is None:
        language, source = declared, "declared" if declared else None
        return _failed(url, EMPTY_EXTRACTION, version, encoding, language=language, language_source=source)
    title = _clean_field(document.title)
    found: dict[str, Any] = {
        "title": title,
        "author": _clean_field(document.author),
        "published": _published(tree, document.date),
    }
    dropped: tuple[DroppedBlock, ...] = ()
    text = ""
    if document.body is not None:
        dropped = clean_blocks(
            document.body,
            title,
            _clean_field(document.description),
            rules if options.clean_boilerplate else None,
            drop_headline=options.drop_headline,
        )
        text = render_text(document.body)
    language, language_source = _page_language(declared, text)
    found.update(language=language, language_source=language_source, dropped=dropped)
    if len(text) < MIN_TEXT_CHARS:
        return _failed(url, EMPTY_EXTRACTION, version, encoding, **found)
    return ExtractedPage(
        url=url,
        text=text,
        encoding=encoding,
        extractor=EXTRACTOR,
        extractor_version=version,
        **found,
    )
