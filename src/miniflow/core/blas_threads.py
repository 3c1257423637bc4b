"""How many threads NumPy's BLAS (OpenBLAS, MKL, BLIS) may use: miniflow's
intra-op parallelism, set by `ConfigProto(intra_op_parallelism_threads=N)` when a Session
is created and by `tf.config.threading.set_intra_op_parallelism_threads(N)`.

BLAS thread pools partition each product statically and spin while they wait, so on a
machine whose cores are busy with other processes one descheduled thread stalls the
whole product (a 256x784 @ 784x256 matmul: 6 ms on one thread, 16-100 ms on two with a
load of 9 on 2 cores). The default (0) therefore takes the cores that other processes
leave free (`default_threads`), at least one: chosen when a Session is created or eager
mode starts, and re-chosen at most once a second while Sessions run (`refresh`), since
the load of a long training job's machine changes. A positive value pins that many.
Thread-count environment variables set by the user (`OMP_NUM_THREADS`,
`OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS`) win over the default. Without `threadpoolctl`
nothing is changed (the BLAS keeps its own default).
"""

from __future__ import annotations

import math
import os
import time

_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
_state: dict = {"controller": None, "pinned": False, "busy": None, "applied": None}
CHECK_EVERY_S = 1.0
# monotonic time of the next `refresh`; inf while the count is pinned or left alone.
# Session.run compares against it on every call, so it is a one-element list.
next_check = [math.inf]


def _controller():
    ctl = _state["controller"]
    if ctl is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            ctl = False
        else:
            ctl = ThreadpoolController().select(user_api="blas")
        _state["controller"] = ctl
    return ctl


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def running_now() -> int | None:
    """Runnable threads of other processes at this moment (Linux's /proc/loadavg less
    this process's own runnable threads, such as BLAS threads still spinning after the
    last product); None where the system does not say."""
    try:
        with open("/proc/loadavg") as f:
            total = int(f.read().split()[3].split("/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as f:
                    own += f.read().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:  # the thread ended meanwhile
                pass
    except (OSError, ValueError, IndexError):
        return None
    return max(0, total - own)


def _sample_busy() -> float | None:
    """Other processes' runnable threads now: the median of three readings 0.5 ms apart
    when the first disagrees with the load average (a passing blip does not decide)."""
    first = running_now()
    if first is None:
        return None
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return first
    if int(load + 0.5) == first:
        return first
    samples = [first]
    for _ in range(2):
        time.sleep(0.0005)
        samples.append(running_now() or 0)
    return sorted(samples)[1]


def _free_cores(busy: float) -> int:
    cores = cpu_count()
    return max(1, min(cores, int(cores - busy + 0.5)))


def default_threads() -> int:
    """Cores left free by other processes, at least 1.

    Other processes' demand is their threads runnable now (`running_now`, less this
    process's own), not the 1-minute load average: the average lags a load that has just
    started by a minute (a Session created then took every core and its BLAS threads
    stalled each other) and still counts a job that has just ended. A reading that
    disagrees with the average is taken three times and the median kept.
    """
    busy = _sample_busy()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except OSError:  # pragma: no cover - no load average on this platform
            return cpu_count()
    _state["busy"] = float(busy)
    return _free_cores(busy)


def refresh() -> None:
    """Re-chooses the default count from a smoothed reading of other processes' demand
    (half the last estimate, half a new reading: about two seconds to follow a change).
    Session.run calls it at most once every `CHECK_EVERY_S`; only while the default
    is in effect."""
    ctl = _controller()
    if not ctl or _state["pinned"] or _state["applied"] is None:
        next_check[0] = math.inf
        return
    next_check[0] = time.monotonic() + CHECK_EVERY_S
    now = running_now()
    if now is None:
        return
    prev = _state["busy"]
    busy = now if prev is None else 0.5 * prev + 0.5 * now
    _state["busy"] = busy
    threads = _free_cores(busy)
    if threads != _state["applied"]:
        ctl.limit(limits=threads)
        _state["applied"] = threads


def set_threads(num_threads, session=False) -> int | None:
    """Sets the BLAS thread count: N > 0 pins N, 0 (or None) applies the default.

    ``session``: called for a new Session's ConfigProto, whose 0 ("the default") leaves an
    earlier pin in place, as TF's process-wide pools keep the first setting.

    Returns:
        the count now in effect, or None where it was left alone (no threadpoolctl, or
        the default with a thread-count environment variable set).

    Raises:
        ValueError: a negative or non-integer count.
    """
    if num_threads is None:
        num_threads = 0
    if isinstance(num_threads, bool) or int(num_threads) != num_threads or num_threads < 0:
        raise ValueError(f"intra_op_parallelism_threads must be an int >= 0, got {num_threads!r}")
    num_threads = int(num_threads)
    _state["applied"] = None
    next_check[0] = math.inf
    if num_threads == 0:
        if session and _state["pinned"]:
            return current_threads()
        _state["pinned"] = False
        if any(os.environ.get(k) for k in _ENV):
            return None
        num_threads = default_threads()
    else:
        _state["pinned"] = True
    ctl = _controller()
    if not ctl:
        return None
    ctl.limit(limits=num_threads)
    if not _state["pinned"]:
        _state["applied"] = num_threads
        next_check[0] = time.monotonic() + CHECK_EVERY_S
    return num_threads


def current_threads() -> int | None:
    """The BLAS thread count in effect (the largest over loaded BLAS libraries)."""
    ctl = _controller()
    if not ctl or not ctl.lib_controllers:
        return None
    return max(lc.num_threads for lc in ctl.lib_controllers)
