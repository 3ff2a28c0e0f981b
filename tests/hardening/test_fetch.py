"""Fetching against a real local HTTP server (pytest-httpserver) and real local files."""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from pipeline.config import FetchSettings
from pipeline.fetch import Validators, fetch_many, fetch_one

FAST = FetchSettings(timeout_s=2.0, max_bytes=10_000, retries=2, backoff_s=0.01, concurrency=4)
RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def test_ok_body_and_validators(httpserver):
    httpserver.expect_request("/feed").respond_with_data(
        RSS,
        content_type="application/rss+xml",
        headers={"ETag": '"abc"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"},
    )
    result = fetch_one(httpserver.url_for("/feed"), None, FAST)
    assert result.ok and result.status == 200 and result.body == RSS
    assert result.validators == Validators('"abc"', "Mon, 02 Nov 2026 10:00:00 GMT")
    assert result.fetched_at.tzinfo is not None


def test_conditional_get_sends_validators_and_handles_304(httpserver):
    httpserver.expect_request(
        "/feed", headers={"If-None-Match": '"abc"', "If-Modified-Since": "Mon, 02 Nov 2026 10:00:00 GMT"}
    ).respond_with_data("", status=304)
    old = Validators('"abc"', "Mon, 02 Nov 2026 10:00:00 GMT")
    result = fetch_one(httpserver.url_for("/feed"), old, FAST)
    assert result.ok and result.not_modified and result.body is None
    assert result.validators == old


def test_404_is_not_retried(httpserver):
    httpserver.expect_request("/missing").respond_with_data("nope", status=404)
    result = fetch_one(httpserver.url_for("/missing"), None, FAST)
    assert not result.ok and result.status == 404 and "404" in result.error
    assert result.attempts == 1
    assert len(httpserver.log) == 1


def test_503_then_200_is_retried(httpserver):
    httpserver.expect_ordered_request("/flaky").respond_with_data(
        "busy", status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/flaky").respond_with_data(RSS)
    result = fetch_one(httpserver.url_for("/flaky"), None, FAST)
    assert result.ok and result.body == RSS and result.attempts == 2


def test_persistent_500_gives_up_with_reason(httpserver):
    httpserver.expect_request("/broken").respond_with_data("err", status=500)
    result = fetch_one(httpserver.url_for("/broken"), None, FAST)
    assert not result.ok
    assert result.attempts == FAST.retries + 1 == len(httpserver.log)
    assert "HTTP 500" in result.error and "3 attempts" in result.error


def test_timeout_is_a_reason_not_an_exception(httpserver):
    def slow(_request):
        time.sleep(0.6)
        return Response(RSS)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    settings = FetchSettings(timeout_s=0.2, retries=0, backoff_s=0.01)
    result = fetch_one(httpserver.url_for("/slow"), None, settings)
    assert not result.ok and "timed out" in result.error


def test_oversized_body_is_cut_off(httpserver):
    httpserver.expect_request("/big").respond_with_data(b"x" * 50_000)
    result = fetch_one(httpserver.url_for("/big"), None, FAST)
    assert not result.ok and "larger than 10000 bytes" in result.error and result.body is None
    assert "ESCALATION_FETCH_MAX_BYTES" in result.error  # the setting that raises the cap


def test_oversized_local_file_names_the_setting(tmp_path):
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 50_000)
    result = fetch_one(str(path), None, FAST)
    assert not result.ok and "larger than 10000 bytes (ESCALATION_FETCH_MAX_BYTES)" in result.error


def test_local_file_and_file_url(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    assert fetch_one(str(path), None, FAST).body == RSS
    assert fetch_one(path.as_uri(), None, FAST).body == RSS


def test_missing_local_file(tmp_path):
    result = fetch_one(str(tmp_path / "nope.xml"), None, FAST)
    assert not result.ok and "file not found" in result.error


@pytest.mark.parametrize("source", ["ftp://example.org/feed.xml", "gopher://x/y", "javascript:alert(1)"])
def test_unsupported_scheme(source):
    result = fetch_one(source, None, FAST)
    assert not result.ok and "unsupported scheme" in result.error


def test_connection_refused_is_recorded():
    result = fetch_one("http://127.0.0.1:9/feed", None, FetchSettings(retries=1, backoff_s=0.01, timeout_s=1))
    assert not result.ok and result.attempts == 2
    assert "refused" in result.error or "network" in result.error


def test_fetch_many_keeps_order_and_isolates_failures(httpserver, tmp_path):
    httpserver.expect_request("/a").respond_with_data(RSS)
    httpserver.expect_request("/b").respond_with_data("x", status=404)
    local = tmp_path / "c.xml"
    local.write_bytes(RSS)
    sources = [httpserver.url_for("/a"), httpserver.url_for("/b"), str(local), "ftp://nowhere/x"]
    seen = []
    results = fetch_many(sources, {}, FAST, on_result=lambda r: seen.append(r.source))
    assert [r.source for r in results] == sources
    assert [r.ok for r in results] == [True, False, True, False]
    assert sorted(seen) == sorted(sources)


def test_redirect_loop_and_non_http_redirect(httpserver):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    httpserver.expect_request("/ftp").respond_with_data(
        "", status=302, headers={"Location": "ftp://example.org/x"}
    )
    loop = fetch_one(httpserver.url_for("/loop"), None, FAST)
    assert not loop.ok and "redirects" in loop.error and loop.attempts == 1
    ftp = fetch_one(httpserver.url_for("/ftp"), None, FAST)
    assert not ftp.ok and "unsupported" in ftp.error


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("3", 3.0),
        ("-5", 0.0),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_values(value, seconds):
    from pipeline.fetch import retry_after_seconds

    assert retry_after_seconds(value) == seconds
