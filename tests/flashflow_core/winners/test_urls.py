"""URL normalisation: one canonical form per video, clear errors for what is not a web URL."""

from __future__ import annotations

import pytest

from flashflow_core.winners.urls import normalize_url

YT = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
TT = "https://www.tiktok.com/@scout2015/video/6718335390845095173"
IG = "https://www.instagram.com/p/CqX3vVzJ4Xy/"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", YT),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ?si=Ab12Cd34", YT),
        ("https://youtube.com/shorts/dQw4w9WgXcQ?feature=share", YT),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc&t=10", YT),
        ("HTTPS://M.YouTube.com/watch?v=dQw4w9WgXcQ&feature=share&list=PL1234567890abcdef", YT),
        ("https://music.youtube.com/watch?v=dQw4w9WgXcQ&utm_source=x", YT),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", YT),
        ("http://www.youtube.com:80/watch?v=dQw4w9WgXcQ#t=30", YT),
        ("  https://www.youtube.com/live/dQw4w9WgXcQ\n", YT),
        (TT + "?is_from_webapp=1&sender_device=pc&web_id=7312", TT),
        ("https://www.tiktok.com/@Scout2015/video/6718335390845095173?_r=1&_t=8abc", TT),
        ("https://tiktok.com/@scout2015/video/6718335390845095173", TT),
        ("https://www.tiktok.com/embed/6718335390845095173", "https://www.tiktok.com/@_/video/6718335390845095173"),
        ("https://www.instagram.com/reel/CqX3vVzJ4Xy/?igshid=MzRlODBiNWFlZA==", IG),
        ("https://instagram.com/p/CqX3vVzJ4Xy", IG),
        ("https://www.instagram.com/someuser/reel/CqX3vVzJ4Xy/?utm_source=ig_web_copy_link&igsh=abc", IG),
        ("https://www.instagram.com/reels/CqX3vVzJ4Xy/", IG),
        ("https://www.instagram.com/tv/CqX3vVzJ4Xy", IG),
    ],
)
def test_known_sites_get_one_canonical_form(url: str, canonical: str) -> None:
    assert normalize_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://vm.tiktok.com/ZMe8tk3Tq/?share_app_id=1233", "https://vm.tiktok.com/ZMe8tk3Tq/"),
        ("https://www.tiktok.com/t/ZTRqXj3Lp/", "https://www.tiktok.com/t/ZTRqXj3Lp/"),
        ("HTTP://Cdn.Example.COM:80/Path/Clip.MP4?b=2&a=1&utm_medium=social#frag",
         "http://cdn.example.com/Path/Clip.MP4?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/v.mp4?fbclid=x&gclid=y&token=abc", "https://example.com:8443/v.mp4?token=abc"),
        ("https://example.com/v?q=a%20b&empty=", "https://example.com/v?empty=&q=a%20b"),
        ("https://bücher.example/video", "https://xn--bcher-kva.example/video"),
        ("http://[::1]:8080/v.mp4", "http://[::1]:8080/v.mp4"),
        ("https://www.tiktok.com/@scout2015/photo/6718335390845095173?_r=1",
         "https://www.tiktok.com/@scout2015/photo/6718335390845095173"),
    ],
)
def test_other_urls_are_cleaned(url: str, normal: str) -> None:
    assert normalize_url(url) == normal


def test_normalising_twice_changes_nothing() -> None:
    for url in (YT, TT, IG, "https://example.com/v.mp4?b=1&a=2", "https://vm.tiktok.com/ZMe8tk3Tq/"):
        assert normalize_url(normalize_url(url)) == normalize_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "the URL is empty"),
        ("   ", "the URL is empty"),
        ("file:///etc/passwd", r"only http and https URLs are accepted \(got file\)"),
        ("ftp://example.com/v.mp4", r"only http and https URLs are accepted \(got ftp\)"),
        ("javascript:alert(1)", r"\(got javascript\)"),
        ("www.youtube.com/watch?v=dQw4w9WgXcQ", r"\(got no scheme\)"),
        ("https://", "has no host name"),
        ("https:///watch?v=dQw4w9WgXcQ", "has no host name"),
        ("https://example.com:99999/v.mp4", "invalid port"),
        ("https://example.com:abc/v.mp4", "invalid port"),
        ("https://user:secret@example.com/v.mp4", "user name or password"),
        ("https://exa mple.com/v.mp4", "spaces or control characters"),
        ("https://example.com/v.mp4\x00", "spaces or control characters"),
        ("https://exa$mple.com/v.mp4", "host name is not valid"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_url(url)
