"""The request head (request line and header fields) of an HTTP/1.x request, parsed lean.

``http.server`` parses header fields with the ``email`` package: about 70 us of a
sparse request's ~300 us of CPU, more than its JSON and NumPy work together. This
parser reads the same lines with the same limits (64 KiB a line, 100 fields; beyond
them 431) into a plain dict, and is stricter where the ``email`` parser guesses: a
field line without a colon, or with blanks before it (RFC 9112 section 5.1), is a 400,
and so are two ``Content-Length`` fields that disagree (a request-smuggling vector).
"""

from __future__ import annotations

__all__ = ["Headers", "BadHead", "read_headers", "parse_request_line"]

MAX_LINE = 65536
MAX_FIELDS = 100


class BadHead(Exception):
    """A head the server refuses: ``code`` is the HTTP status to answer (400 or 431)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class Headers(dict):
    """Header fields by lower-case name (the first value; repeats joined in ``all``).

    ``get`` takes any case, like ``email.message.Message.get``.
    """

    def __init__(self):
        super().__init__()
        self.all: dict[str, list[str]] = {}

    def get(self, name: str, default=None):
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name: str):
        return dict.get(self, name.lower())

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name.lower())

    def get_all(self, name: str, default=None):
        return self.all.get(name.lower(), default)


def read_headers(rfile) -> Headers:
    """Header fields from ``rfile`` up to the blank line that ends the head.

    Raises:
        BadHead: 431 for a line over 64 KiB or more than 100 fields, 400 for a
            malformed field line or conflicting ``Content-Length`` fields.
    """
    headers = Headers()
    last = None
    count = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadHead(431, "Line too long: a header line is longer than 65536 bytes")
        if line in (b"\r\n", b"\n", b""):
            break
        count += 1
        if count > MAX_FIELDS:
            raise BadHead(431, f"Too many headers: got more than {MAX_FIELDS} header lines")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if not text:
            raise BadHead(400, "Bad header line: a bare carriage return")
        if text[0] in " \t":  # obsolete line folding: continues the previous field
            if last is None:
                raise BadHead(400, f"Bad header line {text[:80]!r}: continuation of nothing")
            value = f"{headers.all[last][-1]} {text.strip()}"
            headers.all[last][-1] = value
            if len(headers.all[last]) == 1:
                dict.__setitem__(headers, last, value)
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or " " in name or "\t" in name:
            raise BadHead(400, f"Bad header line {text[:80]!r}: expected 'Name: value'")
        last = name.lower()
        value = value.strip()
        if last in headers.all:
            headers.all[last].append(value)
        else:
            headers.all[last] = [value]
            dict.__setitem__(headers, last, value)
    lengths = headers.all.get("content-length")
    if lengths is not None and len(set(lengths)) > 1:
        raise BadHead(400, f"Conflicting Content-Length fields: {lengths}")
    return headers


def parse_request_line(raw: bytes) -> tuple[str, str, str, tuple[int, int] | None]:
    """``(method, path, version, (major, minor))`` of a request line, as ``http.server``
    reads it (a two-word line is HTTP/0.9, version number None).

    Raises:
        BadHead: 400 for a malformed line or version (505 for HTTP/2 and later).
    """
    line = raw.decode("iso-8859-1").rstrip("\r\n")
    words = line.split()
    number = None
    version = "HTTP/0.9"
    if len(words) >= 3:
        version = words[-1]
        parts = version[5:].split(".") if version.startswith("HTTP/") else []
        if len(parts) != 2 or not all(p.isdigit() and len(p) <= 10 for p in parts):
            raise BadHead(400, f"Bad request version ({version!r})")
        number = (int(parts[0]), int(parts[1]))
        if number >= (2, 0):
            raise BadHead(505, f"Invalid HTTP version ({version[5:]})")
    if not 2 <= len(words) <= 3:
        raise BadHead(400, f"Bad request syntax ({line!r})")
    if len(words) == 2 and words[0] != "GET":
        raise BadHead(400, f"Bad HTTP/0.9 request type ({words[0]!r})")
    path = words[1]
    if path.startswith("//"):  # as http.server (gh-87389): never an absolute URI
        path = "/" + path.lstrip("/")
    return words[0], path, version, number
