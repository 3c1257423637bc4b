"""What an isolated run may see: the tenant's uid, hidden roots and exposed paths.

Built by the executor on the host (as root, before the run starts) and stored in the
run's ``spec.json``; ``sandbox.py`` carries it out inside the run's namespaces.

* The data directory is always hidden (an empty tmpfs over it). Exposed inside it,
  read-write, are the run's own subdirectories (``artifacts/``, ``code/``, ``work/``,
  ``home/`` ...) and, named on the command line, subdirectories of *the same tenant's*
  other runs (recognised by owner uid). The run directory's own files (``spec.json``
  with the environment, ``output.log``, ``status.json``) stay invisible.
* A host path the run needs (the interpreter, its cwd, its Python env, a path on its
  command line) that lies under a directory the tenant's uid cannot search (``/root``,
  pytest's 0700 temp dirs) gets that directory hidden and the path bound back: the
  ancestors become searchable, never listable; the path keeps its own permissions,
  which apply to the tenant's uid. The interpreter is bound read-only.
* Anything else on the host is seen as any unprivileged user sees it.
"""

from __future__ import annotations

import glob
import os
import stat
import sys
from pathlib import Path
from typing import Any

OWN_SUBDIRS = ("home",)  # created for every isolated run, owned by the tenant


def tenant_ids(base: int, tenant: int | None) -> tuple[int, int]:
    """uid and gid of a tenant's runs: ``base + tenant`` (``base`` for runs with no tenant)."""
    ident = base + (tenant or 0)
    return ident, ident


def _searchable(path: Path, uid: int, gid: int) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _hidden_ancestor(path: Path, uid: int, gid: int) -> Path | None:
    """The topmost strict ancestor of ``path`` that ``uid`` cannot search, if any."""
    for parent in reversed(path.parents):
        if not _searchable(parent, uid, gid):
            return parent
    return None


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def interpreter_paths() -> list[Path]:
    """The platform's Python: prefixes, the real executable's dir and its import path."""
    found = [Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent]
    cwd = os.getcwd()  # sys.path[0] may be the server's cwd: not an import root to share
    found += [Path(p) for p in sys.path if p and p != cwd and os.path.isdir(p)]
    return found


def _venv_paths(venv: str) -> list[Path]:
    """A virtualenv and the base interpreter its ``pyvenv.cfg`` points to."""
    paths = [Path(venv)]
    try:
        for line in (Path(venv) / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                paths.append(Path(value.strip()).parent)
    except OSError:
        pass
    return paths


def named_paths(command: list[str], env: dict[str, str], cwd: Path) -> list[Path]:
    """Absolute paths a run names: its cwd, its argv (also ``--opt=/path``), VIRTUAL_ENV."""
    names = [cwd]
    for arg in command:
        value = arg.partition("=")[2] if arg.startswith("-") else arg
        if value.startswith("/"):
            names.append(Path(value))
    if env.get("VIRTUAL_ENV", "").startswith("/"):
        names += _venv_paths(env["VIRTUAL_ENV"])
    return names


def build(
    *,
    data_dir: Path,
    run_dir: Path,
    uid: int,
    gid: int,
    command: list[str],
    env: dict[str, str],
    cwd: Path,
) -> dict[str, Any]:
    """The plan ``sandbox.py`` executes (JSON-ready)."""
    data, run = data_dir.resolve(), run_dir.resolve()
    expose: dict[Path, str] = {}
    for sub in sorted(run.iterdir()):
        if sub.is_dir() and not sub.is_symlink():
            expose[sub] = "rw"
    for path in named_paths(command, env, cwd):
        resolved = _existing(path)
        own = _tenant_subdir(data, resolved, uid)
        if own is not None:
            expose.setdefault(own, "rw")
        elif resolved.exists() and not _within(data, resolved) and not _within(resolved, data):
            expose.setdefault(resolved, "rw")  # its own permissions still apply to uid
    for path in interpreter_paths():
        resolved = path.resolve()
        if resolved.exists() and not _within(data, resolved) and not _within(resolved, data):
            expose[resolved] = "ro"
    hide = {data}
    kept: dict[Path, str] = {}
    for path, mode in expose.items():
        root = _hidden_ancestor(path, uid, gid)
        if root is not None:
            hide.add(root)
        if root is not None or _within(path, data):  # else reachable on the host as it is
            kept[path] = mode
    hide_roots = sorted(h for h in hide if not any(o != h and _within(h, o) for o in hide))
    binds: list[list[str]] = []
    for path in sorted(kept):
        if any(_within(path, Path(b)) for b, _ in binds):
            continue  # visible through an enclosing bind
        binds.append([str(path), kept[path]])
    return {
        "uid": uid,
        "gid": gid,
        "hostname": f"run-{run.name}"[:63],
        "hide": [str(h) for h in hide_roots],
        "expose": binds,
        "skeleton": [str(data), str(run)],
        "readonly": ["/sys/fs/cgroup"],
    }


def _existing(path: Path) -> Path:
    """What to expose for a named path: itself, or for a glob (``/d/day=*/*.svm``) the
    directory above its first wildcard, or for an output that does not exist yet its
    parent."""
    parts = path.parts
    magic = next((i for i, part in enumerate(parts) if glob.has_magic(part)), None)
    if magic is not None:
        path = Path(*parts[:magic])
    resolved = path.resolve()
    return resolved if resolved.exists() or magic is not None else resolved.parent


def _tenant_subdir(data: Path, path: Path, uid: int) -> Path | None:
    """``data/<kind>/<run>/<sub>`` containing ``path`` if the tenant's uid owns it."""
    if not _within(path, data) or path == data:
        return None
    parts = path.relative_to(data).parts
    if len(parts) < 3:
        return None
    sub = data / parts[0] / parts[1] / parts[2]
    try:
        st = sub.lstat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode) and st.st_uid == uid:
        return sub
    return None


def give_to_tenant(run_dir: Path, uid: int, gid: int) -> None:
    """The run's subdirectories and everything in them belong to the tenant (mode 0700 dirs).

    The run directory itself and its top-level files (spec, logs, status) stay the
    platform's, 0700/0600.
    """
    os.chmod(run_dir, 0o700)
    for name in OWN_SUBDIRS:
        (run_dir / name).mkdir(exist_ok=True)
    for sub in run_dir.iterdir():
        if not sub.is_dir() or sub.is_symlink():
            continue
        for root, dirs, files in os.walk(sub):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                st = os.lstat(name)
                if (st.st_uid, st.st_gid) != (uid, gid):
                    os.lchown(name, uid, gid)
        os.chmod(sub, 0o700)
