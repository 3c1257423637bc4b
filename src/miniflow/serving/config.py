"""``--model-config-file``: several models from one server.

Accepts TensorFlow Serving's text format, so an existing ``models.config`` works::

    model_config_list {
      config { name: 'ctr'  base_path: '/models/ctr' }
      config {
        name: 'mnist'  base_path: '/models/mnist'
        model_version_policy { specific { versions: 1 versions: 2 } }
      }
    }

and the same structure as JSON (``{"model_config_list": {"config": [{...}, ...]}}``).
A relative ``base_path`` is taken relative to the config file's directory.
``version_labels { key: 'stable' value: 1 }`` (JSON: ``"version_labels": {"stable": 1}``)
name versions for ``/v1/models/NAME/labels/LABEL``. Other TF Serving fields
(``model_platform``, logging) are accepted and ignored.
"""

from __future__ import annotations

import json
import os
import re

from miniflow.serving.manager import ModelConfig, VersionPolicy

__all__ = ["load_model_config", "parse_text_proto"]

_TOKEN = re.compile(
    r"""\s*(?:(\#[^\n]*)|([{}:\[\],])|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"""|([A-Za-z_][\w.]*)|([-+]?[\d.]+(?:[eE][-+]?\d+)?))"""
)


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"model config: cannot parse near {text[pos : pos + 30]!r}")
        pos = m.end()
        if m.group(1) is None:
            out.append(m.group(m.lastindex))
    return out


def parse_text_proto(text: str) -> dict:
    """Protobuf text format -> nested dicts; every field's values are kept in a list."""
    toks = _tokens(text)
    pos = 0

    def scalar(tok: str):
        if tok[0] in "'\"":
            return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
        if tok in ("true", "false"):
            return tok == "true"
        try:
            return int(tok)
        except ValueError:
            try:
                return float(tok)
            except ValueError:
                return tok  # an enum name

    def message(closing: str | None) -> dict:
        nonlocal pos
        fields: dict[str, list] = {}
        while pos < len(toks) and toks[pos] != closing:
            name = toks[pos]
            pos += 1
            if pos < len(toks) and toks[pos] == ":":
                pos += 1
            if pos >= len(toks):
                raise ValueError(f"model config: field {name!r} has no value")
            if toks[pos] in "{<":
                pos += 1
                value = message("}")
                pos += 1
            elif toks[pos] == "[":
                pos += 1
                while toks[pos] != "]":
                    fields.setdefault(name, []).append(scalar(toks[pos]))
                    pos += 2 if toks[pos + 1] == "," else 1
                pos += 1
                continue
            else:
                value = scalar(toks[pos])
                pos += 1
            fields.setdefault(name, []).append(value)
        if closing is not None and pos >= len(toks):
            raise ValueError("model config: unbalanced '{'")
        return fields

    return message(None)


def _one(fields: dict, key: str, default=None):
    v = fields.get(key, [default] if default is not None else [])
    if isinstance(v, list):
        if not v:
            raise ValueError(f"model config: missing field {key!r}")
        return v[-1]
    return v


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def _policy(raw) -> VersionPolicy:
    if not raw:
        return VersionPolicy()
    raw = _as_list(raw)[-1]
    if "latest" in raw:
        body = _as_list(raw["latest"])[-1] or {}
        return VersionPolicy("latest", int(_one(body, "num_versions", 1)))
    if "specific" in raw:
        body = _as_list(raw["specific"])[-1]
        return VersionPolicy(
            "specific", versions=tuple(int(v) for v in _as_list(body.get("versions", [])))
        )
    if "all" in raw:
        return VersionPolicy("all")
    raise ValueError(f"model config: unknown model_version_policy {sorted(raw)}")


def _labels(raw, model: str, path: str) -> dict[str, int]:
    """``version_labels`` as a map (JSON) or as repeated key/value entries (text)."""
    if not raw:
        return {}
    entries = []
    for item in _as_list(raw):
        if isinstance(item, dict) and item and set(item) <= {"key", "value"}:
            if set(item) != {"key", "value"}:  # a map entry must have both
                raise ValueError(
                    f"model config {path}: model {model!r}: bad version_labels entry "
                    f"{item!r} (expected {{ key: 'LABEL' value: VERSION }})"
                )
            entries.append((_one(item, "key"), _one(item, "value")))
        elif isinstance(item, dict):
            entries += list(item.items())
        else:
            raise ValueError(f"model config {path}: model {model!r}: bad version_labels {item!r}")
    out = {}
    for key, value in entries:
        try:
            version = int(value)
        except (TypeError, ValueError):
            version = -1
        if not isinstance(key, str) or not key or version < 0 or isinstance(value, bool):
            raise ValueError(
                f"model config {path}: model {model!r}: version label {key!r} must name "
                f"a version number, got {value!r}"
            )
        if key in out and out[key] != version:
            raise ValueError(f"model config {path}: model {model!r}: label {key!r} given twice")
        out[key] = version
    return out


def load_model_config(path: str | os.PathLike) -> list[ModelConfig]:
    """Parses a model config file (TF Serving text format or JSON).

    Raises:
        ValueError: malformed file, a missing name/base_path, or a duplicate name.
    """
    path = os.fspath(path)
    with open(path) as f:
        text = f.read()
    doc = json.loads(text) if text.lstrip().startswith("{") else parse_text_proto(text)
    top = _as_list(doc.get("model_config_list", []))
    configs = []
    for block in top:  # {"config": [...]} (text format), or a list of configs (JSON)
        if isinstance(block, dict) and "config" in block:
            configs += _as_list(block["config"])
        elif block:
            configs.append(block)
    here = os.path.dirname(os.path.abspath(path))
    out, names = [], set()
    for c in configs:
        name, base = str(_one(c, "name")), str(_one(c, "base_path"))
        if name in names:
            raise ValueError(f"model config {path}: model name {name!r} appears twice")
        names.add(name)
        policy = _policy(c.get("model_version_policy"))
        labels = _labels(c.get("version_labels"), name, path)
        out.append(ModelConfig(name, os.path.join(here, base), policy, labels))
    if not out:
        raise ValueError(
            f"model config {path}: no models (expected model_config_list "
            "{ config { name: ... base_path: ... } })"
        )
    return out
