"""Text stage: HTML to clean text, boilerplate removal, sentence segmentation.

Segmenter choice (measured once, on the same news-style text with
abbreviations, initials, decimals and quotes): blingfire ~780k sentences/s and correct on every
case we tried ("U.S.", "Gen.", "a.m.", "John F. Kennedy", "D.C.", 2.5, quoted speech); syntok
~37k sentences/s and split one abbreviation case wrongly; pysbd correct but ~400 sentences/s on a
long text (it slows down with text length). We use blingfire; paragraph breaks are always
boundaries, which also keeps a single segmenter call small.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import re
import sys
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

MAX_SENTENCE_CHARS = 1000

_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "hr",
        "pre",
        "dd",
        "dt",
        "aside",
    }
)
_DROP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "object", "head"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_PARAGRAPHS = re.compile(r"\n\s*\n+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
LONG_PARAGRAPH = 100_000  # characters: past this, whitespace is collapsed without a list of words
# Every character blingfire ends a sentence at (found by trying each one of the BMP; a test keeps
# this list complete). A paragraph with none of them before its last character is one sentence,
# and blingfire would return it unchanged: most headlines skip the segmenter call.
SENTENCE_END_CHARS = "!.?\u061f\u06d4\u2024\u2026\u2028\u2029\u203c\u203d\u2048\u2049\u2404\u3002\ufe52\uff01\uff0e\uff1f\uff61"
_SENTENCE_END = re.compile(f"[{re.escape(SENTENCE_END_CHARS)}]")

# Whole-line boilerplate: share/comment prompts, newsletter and cookie lines, feed-footer tails.
# Anchored to the whole line (or a short line) so news sentences that merely mention "share" survive.
# Compiled on first use (_boilerplate()): `score --jsonl` never strips boilerplate, and compiling it
# was 5 ms of that command's start-up.
_BOILERPLATE_PATTERN = (
    r"""^(?:
        share\s+(?:it|this|on\s+\w+|via\s+\w+|this\s+(?:article|story|post))?\s*[.:!…]*
      | click\s+to\s+(?:share|print|email)\b.*
      | leave\s+a\s+(?:reply|comment)\b.*
      | (?:\d+\s+)?comments?\s*[.:]?
      | your\s+email\s+address\s+will\s+not\s+be\s+published\b.*
      | required\s+fields\s+are\s+marked\b.*
      | (?:subscribe|sign\s+up)\b.{0,80}(?:newsletter|updates|alerts|inbox|free)\b.*
      | .{0,40}\bcookies?\b.{0,80}(?:accept|consent|policy|experience|browsing)\b.*
      | (?:related|read\s+more|see\s+also|more\s+on\s+this(?:\s+story)?|recommended|trending)\s*[:.…]*(?:\s.{0,80})?
      | advertisement | sponsored(?:\s+content)?
      | (?:all\s+rights\s+reserved\b.*|(?:©|\(c\)|copyright)\s*\d{4}\b.*)
      | follow\s+us\s+on\b.*
      | the\s+post\s+.+\s+appeared\s+first\s+on\s+.+
      | continue\s+reading\s*[.…]*\s*
      | (?:download|get)\s+(?:our|the)\s+app\b.*
      | (?:tags?|filed\s+under|categories)\s*:.*
      | (?:photo|image)\s*(?:credit)?\s*:.*
    )$"""
)


@functools.cache
def _boilerplate() -> re.Pattern[str]:
    return re.compile(_BOILERPLATE_PATTERN, re.IGNORECASE | re.VERBOSE)


_TRUNCATION = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.)\s*\]|\[\s*\.\.\.\s*\])\s*")


@functools.cache
def _text_extractor() -> type:
    """The HTML text collector class, built on first use: html.parser (and html's entity table) is
    about 5 ms of the start-up of `score --jsonl`, which never reads HTML."""
    from html.parser import HTMLParser

    class _TextExtractor(HTMLParser):
        """Collects text, turning block elements into paragraph breaks and skipping script/style."""

        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self._skipping = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag in _DROP_TAGS:
                self._skipping += 1
            elif tag in _BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_startendtag(self, tag: str, attrs: list) -> None:
            if tag in _BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in _DROP_TAGS:
                self._skipping = max(0, self._skipping - 1)
            elif tag in _BLOCK_TAGS:
                self.parts.append("\n\n")

        def handle_data(self, data: str) -> None:
            if not self._skipping:
                self.parts.append(data)

    return _TextExtractor


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _PARAGRAPHS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment; paragraphs separated by blank lines."""
    import html  # here, not at the top: see _text_extractor

    if "<" not in markup:
        return _normalise(html.unescape(markup))
    extractor = _text_extractor()()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:  # html.parser is lenient; if it still gives up, keep the text without tags
        return _normalise(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return _normalise("".join(extractor.parts))


def strip_boilerplate(text: str) -> str:
    """Drop whole lines that are share prompts, comment forms, newsletter/cookie lines and feed tails."""
    kept = []
    boilerplate = _boilerplate()
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and boilerplate.match(stripped):
            continue
        kept.append(_TRUNCATION.sub(" ", line).rstrip() if "[" in line else line)
    return _PARAGRAPHS.sub("\n\n", "\n".join(kept)).strip()


def _cap(sentence: str) -> list[str]:
    """Split a monster 'sentence' (a 10 MB item with no full stops) into bounded pieces."""
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    pieces: list[str] = []
    for part in re.split(r"(?<=;)\s+", sentence):
        while len(part) > MAX_SENTENCE_CHARS:
            cut = part.rfind(" ", 0, MAX_SENTENCE_CHARS)
            cut = cut if cut > MAX_SENTENCE_CHARS // 2 else MAX_SENTENCE_CHARS
            pieces.append(part[:cut].strip())
            part = part[cut:].strip()
        if part:
            pieces.append(part)
    return pieces


@functools.lru_cache(maxsize=32)
def _char_array(length: int) -> type:
    return ctypes.c_char * length


def _load_segmenter() -> Callable[[str], str]:
    """blingfire's TextToSentences called through ctypes directly, with the same arguments as
    blingfire.text_to_sentences: the package's wrapper imports numpy (a tenth of a second at the
    start of every process) and allocates a fresh ctypes buffer per call. Falls back to the wrapper
    when the shared library is not where the package keeps it."""
    spec = importlib.util.find_spec("blingfire")
    library = None
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "libblingfiretokdll.so"
        if candidate.is_file():
            try:
                library = ctypes.CDLL(str(candidate))
            except OSError:
                library = None
    if library is None:
        import blingfire

        return blingfire.text_to_sentences
    function = library.TextToSentences
    function.argtypes = (ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
    function.restype = ctypes.c_int

    local = threading.local()  # the call releases the GIL: each thread writes into its own buffer

    def text_to_sentences(text: str) -> str:
        data = text.encode("utf-8")
        size = len(data) * 2  # the wrapper's output size, passed as the limit
        # A buffer of a power-of-two length, kept for the next call: ctypes caches one array type per
        # length (building a new type for every distinct size cost more than the segmentation
        # itself), and zeroing a fresh one for every call was measurable too.
        buffer = getattr(local, "buffer", None)
        if buffer is None or len(buffer) < size:
            buffer = local.buffer = _char_array(max(64, 1 << size.bit_length()))()
        length = function(data, len(data), buffer, size)
        if length <= 0 or length > size:  # 0: nothing written (a fresh buffer's value was "")
            return ""
        # The `length` bytes written end with a NUL; up to the first NUL is what the zeroed buffer's
        # .value was (bytes after `length` are an earlier call's).
        return ctypes.string_at(buffer, length).partition(b"\0")[0].decode("utf-8")

    return text_to_sentences


_text_to_sentences = _load_segmenter()


@functools.cache
def _to_space() -> dict[int, str]:
    """str.split()'s whitespace, every character of it, to a plain space (built on first use)."""
    return {c: " " for c in range(sys.maxunicode + 1) if chr(c).isspace() and c != 32}


def _collapse_whitespace(text: str) -> str:
    """The same as " ".join(text.split()), without a list of every word (a book-long line):
    whitespace to spaces, runs of spaces halved until none is left, the ends stripped."""
    text = text.translate(_to_space())
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")


def _boundary_near(paragraph: str, at: int, reach: int = 2000) -> int | None:
    """A position near `at` where the segmenter itself starts a sentence, judged on the text around
    it (sentence boundaries are local): the start of the piece closest to `at` among those of a
    window of 2 x `reach` characters, the window's first and last pieces aside. None if none."""
    low = max(0, at - reach)
    window = paragraph[low : at + reach]
    best, offset = None, 0
    pieces = _text_to_sentences(window).split("\n")
    for i, piece in enumerate(pieces):
        found = window.find(piece, offset) if piece else -1
        if found < 0:
            return best  # the segmenter changed the text: keep what was already matched
        if 0 < i < len(pieces) - 1 and (best is None or abs(low + found - at) < abs(best - at)):
            best = low + found
        offset = found + len(piece)
    return best


def _segment_long(paragraph: str, chunk: int = LONG_PARAGRAPH) -> list[str]:
    """The segmenter's sentences of a book-long paragraph, chunk by chunk (cut where it starts a
    sentence anyway): in one go its memory grows with the input, about 15 times over (300 MB for
    20 MB, measured)."""
    pieces: list[str] = []
    start = 0
    while len(paragraph) - start > 2 * chunk:
        cut = _boundary_near(paragraph, start + chunk)
        if cut is None or cut <= start:
            break  # no boundary found: the rest in one go
        pieces += _text_to_sentences(paragraph[start:cut]).split("\n")
        start = cut
    pieces += _text_to_sentences(paragraph[start:]).split("\n")
    return pieces


def _has_sentence_end(paragraph: str) -> bool:
    """Whether a sentence-end character comes before the paragraph's last character. An ASCII text can
    only have "!", "." and "?" of them: three substring searches take half the time of the regular
    expression's character class."""
    last = len(paragraph) - 1
    if paragraph.isascii():
        return (
            paragraph.find(".", 0, last) >= 0
            or paragraph.find("?", 0, last) >= 0
            or paragraph.find("!", 0, last) >= 0
        )
    return _SENTENCE_END.search(paragraph, 0, last) is not None


def split_sentences(text: str, *, chunked: bool = False) -> list[str]:
    """Sentences of a text; paragraph breaks always end a sentence; pieces without letters dropped.
    `chunked`: a paragraph over LONG_PARAGRAPH characters goes to the segmenter in chunks, cut where
    it starts a sentence anyway, so memory stays flat on a book-long line (`score --jsonl`). The
    segmenter is not consistent on such input by itself, so a few boundaries may differ: 3 of
    75,838 sentences on a 2.6 MB paragraph dense with abbreviations ("Mr.", "U.S."), none of
    444,277 on a 20 MB one of plain news sentences (measured)."""
    sentences: list[str] = []
    # A one-line text (a headline, a teaser) is one paragraph: no paragraph split needed.
    for paragraph in _PARAGRAPHS.split(text) if "\n" in text else (text,):
        # Whitespace runs become one space. Every character str.split() splits on is unprintable
        # except " ", so a printable paragraph without double, leading or trailing spaces (nearly
        # every headline) is already in that form: two fast checks instead of a split and a join.
        if len(paragraph) > LONG_PARAGRAPH:
            paragraph = _collapse_whitespace(paragraph)
        elif not paragraph.isprintable() or "  " in paragraph or paragraph[:1] == " " or paragraph[-1:] == " ":
            paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if _has_sentence_end(paragraph):
            if chunked and len(paragraph) > LONG_PARAGRAPH:
                pieces = _segment_long(paragraph)
            else:
                pieces = _text_to_sentences(paragraph).split("\n")
        else:
            pieces = (paragraph,)  # already stripped by the join above
        for sentence in pieces:
            sentence = sentence.strip()
            # a letter first (nearly every sentence) is a letter: the expression runs only for the rest
            if sentence and (sentence[0].isalpha() or _HAS_LETTER.search(sentence)):
                if len(sentence) <= MAX_SENTENCE_CHARS:
                    sentences.append(sentence)
                else:
                    sentences.extend(_cap(sentence))
    return sentences


def article_sentences(title: str, body_html: str) -> list[str]:
    """The title (a headline is signal too), then the cleaned body's sentences, each kept once."""
    return text_sentences(title, strip_boilerplate(html_to_text(body_html)))


def text_sentences(title: str, text: str) -> list[str]:
    """The title's sentences, then those of a plain text (paragraphs separated by blank lines, as
    html_to_text or an extracted article page give them), each kept once."""
    sentences = split_sentences(title) if title.strip() else []
    sentences += split_sentences(text)
    seen: set[str] = set()
    unique = []
    for sentence in sentences:
        key = sentence.casefold().rstrip(".!? ")
        if key not in seen:
            seen.add(key)
            unique.append(sentence)
    return unique
