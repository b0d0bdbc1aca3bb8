"""Secrets never leave the process readable: keys, secrets and signatures are masked in every text form."""

from __future__ import annotations

from pathlib import Path

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
