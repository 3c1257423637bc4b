"""The lean request-head parser (issue 19: the ``email`` package's header parsing was the
largest single cost of a sparse request): the same fields as ``http.client`` for valid
heads, the same limits, and stricter answers where ``email`` guesses."""

from __future__ import annotations

import http.client
import io
import json
import socket

import pytest
from hypothesis import given, settings, strategies as st
from serving_helpers import write_lr_model

from miniflow.serving.errors import ModelLoadError
from miniflow.serving.http_head import BadHead, parse_request_line, read_headers
from miniflow.serving.sparse_lr import SparseLRServable

_NAME = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=12)
_VALUE = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(_NAME, _VALUE), max_size=12))
def test_fields_equal_http_client_s(fields):
    head = b"".join(f"{n}: {v}\r\n".encode() for n, v in fields) + b"\r\n"
    want = http.client.parse_headers(io.BytesIO(head))  # the standard library's parser
    got = read_headers(io.BytesIO(head))
    for name, _ in fields:
        assert got.get(name) == want.get(name)
        assert got.get(name.upper()) == want.get(name)
        assert got.get_all(name) == want.get_all(name)


def test_folded_lines_and_case():
    h = read_headers(io.BytesIO(b"X-Long: a\r\n  b\r\nContent-Type: text/x\r\n\r\nBODY"))
    assert h.get("x-long") == "a b" and h["CONTENT-TYPE"] == "text/x" and "content-type" in h
    assert h.get("missing", "d") == "d"


@pytest.mark.parametrize(
    "head, code, words",
    [
        (b"NoColonHere\r\n\r\n", 400, "expected 'Name: value'"),
        (b"Bad Name: x\r\n\r\n", 400, "expected 'Name: value'"),
        (b"Host : x\r\n\r\n", 400, "expected 'Name: value'"),
        (b" folded: first\r\n\r\n", 400, "continuation of nothing"),
        (b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, "Conflicting Content-Length"),
        (b"X: " + b"a" * 70000 + b"\r\n\r\n", 431, "Line too long"),
        (b"".join(b"X%d: 1\r\n" % i for i in range(101)) + b"\r\n", 431, "Too many headers"),
    ],
)
def test_bad_heads(head, code, words):
    with pytest.raises(BadHead, match=words) as e:
        read_headers(io.BytesIO(head))
    assert e.value.code == code


def test_repeated_equal_content_length_is_one_length():
    h = read_headers(io.BytesIO(b"Content-Length: 5\r\ncontent-length: 5\r\n\r\n"))
    assert h.get("Content-Length") == "5"


@pytest.mark.parametrize(
    "line, want",
    [
        (b"POST /v1/models/a:predict HTTP/1.1\r\n", ("POST", "/v1/models/a:predict", "HTTP/1.1", (1, 1))),
        (b"GET //evil.example/x HTTP/1.0\r\n", ("GET", "/evil.example/x", "HTTP/1.0", (1, 0))),
        (b"GET /healthz\r\n", ("GET", "/healthz", "HTTP/0.9", None)),
    ],
)  # fmt: skip
def test_request_lines(line, want):
    assert parse_request_line(line) == want


@pytest.mark.parametrize(
    "line, code",
    [
        (b"GET / HTTP/1.1.1\r\n", 400),
        (b"GET / HTTP/x.1\r\n", 400),
        (b"GET / FTP/1.1\r\n", 400),
        (b"GET / HTTP/2.0\r\n", 505),
        (b"POST /healthz\r\n", 400),
        (b"GET a b HTTP/1.1\r\n", 400),
    ],
)
def test_bad_request_lines(line, code):
    with pytest.raises(BadHead) as e:
        parse_request_line(line)
    assert e.value.code == code


def _exchange(url: str, data: bytes) -> bytes:
    host, port = url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_server_refuses_conflicting_lengths_and_keeps_serving(tmp_path, start_server):
    write_lr_model(tmp_path / "lr" / "1", seed=3)
    server = start_server("--model-dir", tmp_path / "lr", "--name", "lr")
    body = b'{"instances": [{"indices": [1], "values": [1.0]}]}'
    raw = _exchange(
        server.url,
        b"POST /v1/models/lr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Content-Length: 3\r\n\r\n" % len(body) + body,
    )  # the connection is closed after the answer (the loop above reads to EOF)
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in head
    assert "Conflicting Content-Length" in json.loads(payload)["error"]
    raw = _exchange(server.url, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 ")
    code, _ = server.get("/healthz")
    assert code == 200


@pytest.mark.parametrize(
    "meta, words",
    [
        ('{"format": "miniflow.other"}', "has format 'miniflow.other'"),
        ('{"format": "miniflow.sparse_lr", "version": 99}', "newer than"),
        ("[1, 2]", "not a 'miniflow.sparse_lr' model description"),
    ],
)
def test_sparse_lr_model_json_is_checked_by_the_shared_reader(tmp_path, meta, words):
    write_lr_model(tmp_path / "1", seed=4)
    (tmp_path / "1" / "model.json").write_text(meta)
    with pytest.raises(ModelLoadError, match=words):
        SparseLRServable.load(str(tmp_path / "1"))
