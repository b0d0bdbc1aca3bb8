"""Secrets never leave the process readable: keys, secrets and signatures are masked in every text form."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.data.exchange import Exchange, Request, Response
from conformance.harness import redact

KEY, SECRET, SIG = "redact-key-7f7f7f7f", "redact-secret-3c3c3c3c", "ab" * 32


def test_registered_secrets_and_signatures_are_masked_in_every_form() -> None:
    redact.register_secret(KEY, SECRET)
    texts = [f"GET /x?a=1&signature={SIG}", f"{{'signature': '{SIG}'}}", f'{{"signature":"{SIG}"}}',
             f"x-mbx-apikey: {KEY}", f"secret is {SECRET}", f"X-MBX-APIKEY={KEY}"]
    for text in texts:
        clean = redact.redact(text)
        assert KEY not in clean and SECRET not in clean and SIG not in clean, clean


def test_the_reproduction_command_carries_no_secret() -> None:
    redact.register_secret(KEY, SECRET)
    request = Request("POST", f"http://127.0.0.1:9/fapi/v1/order?timestamp=1&signature={SIG}",
                      {"x-mbx-apikey": KEY, "content-type": "application/x-www-form-urlencoded"}, b"symbol=BTCUSDT")
    ex = Exchange(request, Response(200, {}, b"{}"))
    for text in (redact.curl(ex), redact.request_text(ex)):
        assert KEY not in text and SIG not in text and "<redacted>" in text


def test_scrub_file_rewrites_only_files_with_secrets(tmp_path: Path) -> None:
    redact.register_secret(KEY)
    dirty, clean = tmp_path / "dirty.xml", tmp_path / "clean.xml"
    dirty.write_text(f"<x>{KEY} signature={SIG}</x>")
    clean.write_text("<x>nothing</x>")
    assert redact.scrub_file(dirty) is True and redact.scrub_file(clean) is False
    assert KEY not in dirty.read_text() and SIG not in dirty.read_text()


def _reference(text: str, mask: str) -> str:
    """The substitutions as `re.sub` makes them over the whole text (what `redact` did before it looked for the words
    first)."""
    for secret in sorted(redact._SECRETS, key=len, reverse=True):
        text = text.replace(secret, mask)
    for pattern in (redact._SIGNATURE, redact._SIGNATURE_FIELD, redact._KEY_HEADER):
        text = pattern.sub(rf"\g<1>{mask}", text)
    return text


# The words in several cases, what surrounds a value in a query, a dict, JSON, a header and markup, values, and the
# non-ASCII letters IGNORECASE matches to ASCII ones (ſ is s, ı and İ are i: `redact` goes the slow way; K is k),
# and a character beyond the BMP as generated values have.
_PIECES = ["signature", "SIGNATURE", "SigNature", "_signature", "x-mbx-apikey", "X-MBX-APIKEY", "X-Mbx-ApiKey", "=",
           ":", ": ", '"', "'", " ", "\n", "\t", "ab12", "%2F", "0", ",", "}", "{", "<", "&", "&lt;", "ſignature",
           "x-mbx-apiKey", "é", "absent", "?a=1&", "redacted", "s\u0131gnature", "S\u0130GNATURE", "x-mbx-api\u212aey",
           "\U000ad34b", "\u0130"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.sampled_from([redact.MASK, redact.XML_MASK]))
def test_redaction_tried_where_the_words_are_masks_exactly_what_whole_text_substitution_masks(
        pieces: list[str], mask: str) -> None:
    text = "".join(pieces)
    assert redact.redact(text, mask) == _reference(text, mask)


def test_redaction_of_a_har_sized_text_masks_every_value_and_leaves_the_rest() -> None:
    entry = '{"url": "http://127.0.0.1:9/fapi/v1/order?a=1&Signature=%s", "_signature": "absent", ' \
            '"headers": {"X-MBX-APIKEY": "k%d"}, "body": {"signature" :  \'%s\'}}'
    text = ",\n".join(entry % (f"{i:064x}", i, f"{i:032x}") for i in range(3000))
    clean = redact.redact(text)
    assert clean == _reference(text, redact.MASK)
    assert clean.count(redact.MASK) == 3 * 3000 and '"_signature": "absent"' in clean and "k17" not in clean
