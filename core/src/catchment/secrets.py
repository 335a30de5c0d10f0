"""``redact``: the one function that hides passwords in text before it is printed, logged or
recorded (``catchment.redact``). Storage, adapters (Sling connections, Snowflake, PostgreSQL
sources) and the CLI's last line of defence all call it, so a URL shape it knows is hidden
everywhere.

It hides, in any text:

- the password of ``scheme://user:password@host`` (also when the password holds ``@``);
- the value of a secret-named parameter in a query string or a libpq ``key=value`` DSN
  (``password=``, ``sslpassword=``, ``token=``, ``secret=``, quoted values too);
- every password found in ``urls`` (the URLs or DSNs the caller used) and every string of
  ``secrets``, wherever they appear, also in pieces: a driver that misread
  ``user:Super@Secret123@host`` may echo ``Secret123@host``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

__all__ = ["MASK", "redact", "url_secrets"]

MASK = "***"

_SECRET_NAME = (
    r"[A-Za-z_]*(?:pass(?:word|wd)?|pwd|secret|token|auth|credentials?"
    r"|(?:api|access|account|private|secret|sas)_?key)[A-Za-z_]*"
)
# key=value in a query string (after ? or &) or a libpq DSN (after a space or the start)
_PARAM = re.compile(
    rf"(?i)(?P<lead>(?:^|[?&;\s,(]))(?P<name>{_SECRET_NAME})(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,)'\"]+)"
)
# scheme://NETLOC where NETLOC may carry user:password@ (the last @ ends the user part)
_NETLOC = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<netloc>[^\s/?#'\"<>]+)")
_MIN_SECRET = 3  # shorter strings would mask unrelated text


def _hide_userinfo(match: re.Match[str]) -> str:
    netloc = match["netloc"]
    if "@" not in netloc:
        return match.group(0)
    userinfo, host = netloc.rsplit("@", 1)
    user, colon, _ = userinfo.partition(":")
    return f"{match['scheme']}{user}{':' + MASK if colon else ''}@{host}"


def _hide_param(match: re.Match[str]) -> str:
    value = match["value"]
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['lead']}{match['name']}{match['eq']}{quote}{MASK}{quote}"


def url_secrets(url: str) -> set[str]:
    """The passwords a URL or libpq DSN carries, decoded and raw, with their ``@``/``:``
    pieces (what a driver that split the URL differently might echo)."""
    found: set[str] = set()
    for m in _NETLOC.finditer(url):
        userinfo = m["netloc"].rsplit("@", 1)[0] if "@" in m["netloc"] else ""
        if ":" in userinfo:
            found.add(userinfo.partition(":")[2])
    for m in _PARAM.finditer(url):
        found.add(m["value"].strip("'\""))
    out: set[str] = set()
    for secret in found:
        for form in (secret, unquote(secret)):
            out.add(form)
            out.update(re.split(r"[@:]", form))
    return {s for s in out if len(s) >= _MIN_SECRET}


def redact(text: str, *, urls: Iterable[str] = (), secrets: Iterable[str] = ()) -> str:
    """``text`` with every password replaced by ``***``: those in URLs and DSNs it contains,
    and those of ``urls`` and ``secrets`` wherever they appear (longest first)."""
    known: set[str] = {s for s in secrets if s and len(s) >= _MIN_SECRET}
    for url in urls:
        known |= url_secrets(url)
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _NETLOC.sub(_hide_userinfo, text)
    return _PARAM.sub(_hide_param, text)
