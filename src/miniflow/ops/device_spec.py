"""`tf.DeviceSpec`: a parsed device string ``/job:<j>/replica:<r>/task:<t>/device:<T>:<i>``
(miniflow runs everything on the CPU; the spec is kept and printed as TF does)."""

from __future__ import annotations


class DeviceSpec:
    """``DeviceSpec(job=None, replica=None, task=None, device_type=None,
    device_index=None)``."""

    _FIELDS = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job = job
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = (
            None
            if device_type is None
            else (device_type.upper() if device_type.upper() in ("CPU", "GPU") else device_type)
        )
        self.device_index = None if device_index is None else int(device_index)

    @classmethod
    def from_string(cls, spec):
        """Parses a device string.

        Raises:
            ValueError: a part of the string is not understood.
        """
        return cls(**_parse(spec or ""))

    def parse_from_string(self, spec):
        """Sets the fields named in ``spec``; returns self (TF1's mutating form)."""
        for k, v in _parse(spec or "").items():
            setattr(self, k, v)
        return self

    def to_string(self):
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            parts.append(f"/device:{self.device_type}:{index}")
        return "".join(parts)

    def replace(self, **kwargs):
        """A copy with the given fields replaced."""
        fields = {k: getattr(self, k) for k in self._FIELDS}
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def make_merged_spec(self, dev):
        """A copy with the fields ``dev`` sets taken from ``dev``."""
        return self.replace(
            **{k: getattr(dev, k) for k in self._FIELDS if getattr(dev, k) is not None}
        )

    def merge_from(self, dev):
        for k in self._FIELDS:
            if getattr(dev, k) is not None:
                setattr(self, k, getattr(dev, k))

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        return (
            f"<DeviceSpec(job={self.job}, replica={self.replica}, task={self.task}, "
            f"device_type={self.device_type}, device_index={self.device_index})>"
        )


def _parse(spec):
    out = {}
    for part in [p for p in spec.split("/") if p]:
        bits = part.split(":")
        key = bits[0].lower()
        if key in ("job", "replica", "task") and len(bits) == 2:
            out[key] = bits[1] if key == "job" else int(bits[1])
        elif key == "device" and len(bits) in (2, 3):
            out["device_type"] = bits[1].upper() if bits[1].lower() in ("cpu", "gpu") else bits[1]
            if len(bits) == 3 and bits[2] != "*":
                out["device_index"] = int(bits[2])
        elif key in ("cpu", "gpu") and len(bits) == 2:
            out["device_type"] = key.upper()
            if bits[1] != "*":
                out["device_index"] = int(bits[1])
        else:
            raise ValueError(
                f"Unknown attribute '{key}' is encountered while parsing the device spec: '{spec}'."
            )
    return out
