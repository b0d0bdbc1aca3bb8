"""Secret redaction for everything the suite prints, logs, attaches or writes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from conformance.data.exchange import Exchange
from conformance.harness import atomic

MASK = "<redacted>"
XML_MASK = "&lt;redacted&gt;"  # the same mask inside XML/HTML text, which must stay well-formed
_SIGNATURE = re.compile(r"(signature=)[0-9A-Za-z%]+", re.IGNORECASE)
# The same value printed from a dict or JSON: 'signature': 'ab12…' / "signature":"ab12…"
_SIGNATURE_FIELD = re.compile(r"""(["']signature["']\s*:\s*["'])[0-9A-Za-z%]+""", re.IGNORECASE)
# A key's value ends at white space, a quote, a comma, a brace, or markup (`<`, `&`: XML/HTML text and the mask).
_KEY_HEADER = re.compile(r"(x-mbx-apikey[\"']?\s*[:=]\s*[\"']?)[^\s\"',}<&]+", re.IGNORECASE)
_SECRETS: set[str] = set()


def register_secret(*values: str | None) -> None:
    """Remember secret values (API key, secret) so that every later redaction removes them."""
    _SECRETS.update(v for v in values if v and len(v) >= 6)


# Every pattern below needs one of these words: a text without them (and without a registered secret) is unchanged,
# and most texts (answers, Allure results) have neither, so they are not run through the substitutions at all. The
# words are looked for in the lower-cased text (a case-insensitive search was a scan of every position of every
# answer shown); a text with one of _FOLDED, which lower() does not make the letter IGNORECASE matches, by _SUSPECT.
_SUSPECT = re.compile(r"signature|x-mbx-apikey", re.IGNORECASE)


# Each pattern with the word its every match holds, and where: a match of _SIGNATURE_FIELD starts one quote before it.
_PASSES = ((_SIGNATURE, "signature", 0), (_SIGNATURE_FIELD, "signature", 1), (_KEY_HEADER, "x-mbx-apikey", 0))


# The letters other than ASCII ones that IGNORECASE matches to a letter of the words (İ and ı to i, ſ to s) while
# lower() does not make them that letter (K becomes k); İ is also the one letter lower() makes two characters.
_FOLDED = ("\u0130", "\u0131", "\u017f")


def redact(text: str, mask: str = MASK) -> str:
    folded = any(letter in text or letter in mask for letter in _FOLDED)
    lower = "" if folded else text.lower()
    suspect = _SUSPECT.search(text) is not None if folded else any(word in lower for _, word, _ in _PASSES)
    if not suspect and not any(secret in text for secret in _SECRETS):
        return text
    replaced = text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        replaced = replaced.replace(secret, mask)
    if folded:
        for pattern, _, _ in _PASSES:
            replaced = pattern.sub(lambda m: m.group(1) + mask, replaced)
        return replaced
    lower = lower if replaced is text else replaced.lower()
    for pattern, word, offset in _PASSES:
        replaced, lower = _substituted(pattern, word, offset, replaced, lower, mask)
    return replaced


def _substituted(pattern: re.Pattern[str], word: str, offset: int, text: str, lower: str,
                 mask: str) -> tuple[str, str]:
    """`pattern.sub` keeping group 1 and masking the rest of each match, tried only where `word` is; with the
    result's lower-cased text.

    A case-insensitive pattern is tried at every position of the text (~30 ms a pass over the schema module's HAR
    file, whose every entry says `"_signature": "absent"`). Each match starts `offset` characters before an
    occurrence of `word`, so trying the pattern at those places only, left to right and past each match's end, finds
    exactly what `sub` finds. The occurrences are found in the lower-cased text (`lower`), which has the text's
    positions and every place the pattern can match when neither the text nor the mask holds one of _FOLDED (the
    caller substitutes such a text by `sub` itself).
    """
    pieces, lowered, pos = [], [], 0
    at = lower.find(word)
    while at != -1:
        start = at - offset
        match = pattern.match(text, start) if start >= pos else None
        if match is not None:
            kept = match.group(1)
            pieces += [text[pos:start], kept, mask]
            lowered += [lower[pos:start], kept.lower(), mask.lower()]
            pos = match.end()
        at = lower.find(word, at + 1)
    if not pieces:
        return text, lower
    return "".join(pieces) + text[pos:], "".join(lowered) + lower[pos:]


def request_text(exchange: Exchange) -> str:
    req = exchange.request
    headers = "\n".join(f"{k}: {v}" for k, v in sorted(req.headers.items()))
    body = req.body.decode("utf-8", "replace")
    return redact(f"{req.method} {req.url}\n{headers}\n\n{body}".rstrip())


def response_text(exchange: Exchange) -> str:
    resp = exchange.response
    headers = "\n".join(f"{k}: {v}" for k, v in sorted(resp.headers.items()))
    return redact(f"HTTP {resp.status}\n{headers}\n\n{resp.text[:20000]}".rstrip())


def curl(exchange: Exchange) -> str:
    """A one-line reproduction command with secrets redacted (re-sign before replaying a signed call)."""
    req = exchange.request
    if req.method == "WS":  # a WebSocket conversation: the frames the suite sent, one a line, into websocat
        frames = [line.split(" ", 2)[2] for line in req.body.decode("utf-8", "replace").splitlines()
                  if line.count(" ") >= 2]
        return redact(f"printf '%s\\n' {' '.join(shlex.quote(f) for f in frames)} | websocat {shlex.quote(req.url)}")
    parts = ["curl", "-sS", "-X", req.method, shlex.quote(req.url)]
    for name, value in sorted(req.headers.items()):
        if name in ("x-mbx-apikey", "content-type"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if req.body:
        parts += ["--data", shlex.quote(req.body.decode("utf-8", "replace"))]
    return redact(" ".join(parts))


def scrub_file(path: Path, max_bytes: int = 20_000_000) -> bool:
    """Rewrite a text output file with secrets redacted; True when something had to be removed."""
    try:
        if path.stat().st_size > max_bytes:
            return False
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # binary files (screenshots) never contain what this suite sends
    markup = path.suffix.lower() in (".xml", ".html", ".htm")
    clean = redact(text, XML_MASK if markup else MASK)
    if clean == text:
        return False
    atomic.write_text(path, clean)
    return True
