"""The intended differences from TensorFlow, kept as data in ``differences.toml``: each
entry names a case (and optionally a variant and a check) and says why miniflow differs.
A failing check that an entry matches is reported as a "known difference"."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import tomllib

DEFAULT = Path(__file__).with_name("differences.toml")
_KEYS = {"case", "variant", "check", "reason", "doc"}


@dataclass(frozen=True)
class Difference:
    case: str  # the case id, or an fnmatch pattern on it ("math.*"); a list in the file
    reason: str
    variant: str = "*"  # fnmatch pattern on the variant name ("float32|(2,3)|...")
    check: str = "*"  # error | forward | grad1 | grad2 | eager
    doc: str = "docs/tf1_differences.md"

    def matches_case(self, case_id: str) -> bool:
        return case_id == self.case or fnmatch.fnmatchcase(case_id, self.case)

    def matches(self, case_id: str, variant: str, check: str) -> bool:
        return (
            self.matches_case(case_id)
            and fnmatch.fnmatchcase(variant, self.variant)
            and fnmatch.fnmatchcase(check, self.check)
        )


def load(path=DEFAULT) -> list[Difference]:
    """Parses the differences file.

    Raises:
        ValueError: an entry lacks ``case`` or ``reason``, or has an unknown key.
    """
    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = []
    for i, entry in enumerate(data.get("difference", [])):
        unknown = set(entry) - _KEYS
        if unknown or "case" not in entry or not entry.get("reason"):
            raise ValueError(
                f"{path}: difference #{i + 1} needs 'case' and 'reason' "
                f"(allowed keys {sorted(_KEYS)}), got {sorted(entry)}"
            )
        cases = entry["case"] if isinstance(entry["case"], list) else [entry["case"]]
        out += [Difference(**{**entry, "case": c}) for c in cases]
    return out


def find(diffs, case_id: str, variant: str, check: str) -> Difference | None:
    return next((d for d in diffs if d.matches(case_id, variant, check)), None)
