"""The feed list: the committed files load; every malformed list fails with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.feeds import FeedListError, load_feed_list, outlet_key

REPO = Path(__file__).resolve().parents[2]


def test_committed_feed_lists_load():
    default = load_feed_list(REPO / "feeds.yaml")
    assert len(default) >= 12 and all(f.url.startswith("https://") for f in default)
    demo = load_feed_list(REPO / "samples" / "demo_feeds.yaml")
    assert len(demo) == 3 and all(Path(f.url).is_file() for f in demo)


def test_relative_paths_resolve_against_the_file(tmp_path):
    (tmp_path / "sub").mkdir()
    listing = tmp_path / "sub" / "feeds.yaml"
    listing.write_text("feeds:\n  - url: local.xml\n  - https://example.org/rss\n")
    specs = load_feed_list(listing)
    assert specs[0].url == str(tmp_path / "sub" / "local.xml")
    assert specs[1].url == "https://example.org/rss" and specs[1].name == "https://example.org/rss"


def test_empty_list_is_valid(tmp_path):
    listing = tmp_path / "feeds.yaml"
    listing.write_text("feeds: []\n")
    assert load_feed_list(listing) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("feeds: [unclosed\n", "not valid YAML at line"),
        ("- just a list\n", "expected a mapping"),
        ("feeds: {a: 1}\n", "must be a list"),
        ("feeds:\n  - name: no url\n", "needs a 'url'"),
        ("feeds:\n  - url: https://a.example/rss\n  - url: https://a.example/rss\n", "duplicate url"),
        ("feeds:\n  - url: ftp://a.example/rss\n", "unsupported scheme"),
    ],
)
def test_bad_feed_lists(tmp_path, content, message):
    listing = tmp_path / "feeds.yaml"
    listing.write_text(content)
    with pytest.raises(FeedListError, match=message):
        load_feed_list(listing)


def test_missing_feed_list(tmp_path):
    with pytest.raises(FeedListError, match="not found"):
        load_feed_list(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("url", "outlet"),
    [
        ("https://feeds.bbci.co.uk/news/world/rss.xml", "feeds.bbci.co.uk"),
        ("https://feeds.bbci.co.uk/news/world/middle_east/rss.xml", "feeds.bbci.co.uk"),
        ("https://www.theguardian.com/world/rss", "theguardian.com"),
        ("https://WWW.TheGuardian.com/world/middleeast/rss", "theguardian.com"),
        ("http://127.0.0.1:8081/a.xml", "127.0.0.1:8081"),  # two local servers are two outlets
        ("archive:bbc-news", "archive:bbc-news"),  # no host: the feed is its own outlet
        ("/srv/feeds/local.xml", "/srv/feeds/local.xml"),
    ],
)
def test_outlet_key_is_the_feed_host(url, outlet):
    assert outlet_key(url) == outlet


def test_default_feed_list_counts_a_publishers_feeds_as_one_outlet():
    specs = load_feed_list(REPO / "feeds.yaml")
    outlets = {outlet_key(spec.url) for spec in specs}
    assert len(outlets) < len(specs)
    assert "feeds.bbci.co.uk" in outlets and "theguardian.com" in outlets
