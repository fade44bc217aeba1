"""The CEF and syslog parsers against their grammars (hypothesis): what an encoder writes
by the CEF standard's escaping rules and RFC 5424's framing is read back exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.formats._cef import parse_cef
from adapters.formats._syslog import parse_syslog

keys = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,11}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda v: not v.endswith(" ")  # a trailing space cannot be told from the separator
)
headers = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


def _ext(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("=", "\\=")
            .replace("\n", "\\n").replace("\r", "\\r"))  # fmt: skip


def _sd(value: str) -> str:
    """RFC 5424 PARAM-VALUE escaping: backslash, double quote and ] escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _head(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


@settings(max_examples=200, deadline=None)
@given(
    fields=st.dictionaries(keys, values, max_size=6),
    vendor=headers,
    name=headers,
)
def test_cef_reads_back_what_the_standard_encodes(fields, vendor, name):
    ext = " ".join(f"{k}={_ext(v)}" for k, v in fields.items())
    message = f"CEF:0|{_head(vendor)}|Proxy|1.0|100|{_head(name)}|5|{ext}"
    cef = parse_cef(message)
    assert cef.ext == fields
    assert cef.header["vendor"] == vendor and cef.header["name"] == name


@settings(max_examples=200, deadline=None)
@given(
    pri=st.integers(0, 191),
    host=st.from_regex(r"[!-~]{1,20}", fullmatch=True).filter(lambda h: h != "-"),
    params=st.lists(st.tuples(keys, values), max_size=3),
    msg=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_rfc5424_frames_and_structured_data(pri, host, params, msg):
    sd_value = "".join(f' {k}="{_sd(v)}"' for k, v in params)
    line = f"<{pri}>1 2026-03-02T09:15:02.5+01:00 {host} app 1 ID [x@1{sd_value}] {msg}"
    parsed = parse_syslog(line)
    assert (parsed.rfc, parsed.facility, parsed.severity) == (5424, pri >> 3, pri & 7)
    assert parsed.host == host and parsed.time == "2026-03-02T08:15:02.500Z"
    assert parsed.message == msg.removeprefix("\ufeff")
