"""Streaming a run's log: the whole log, or follow until the run ends.

The bytes come from the executor's ``read_log`` (which knows where a run's log lives),
so this module only paces the reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

FOLLOW_POLL_S = 0.25


async def stream_log(
    read: Callable[[int], bytes],
    offset: int,
    follow: bool,
    request: Request,
    is_finished: Callable[[], bool],
) -> AsyncIterator[bytes]:
    """Yield the log from ``offset``; with ``follow``, keep yielding until the run ends.

    ``read(offset)`` returns the next chunk (b"" at the end): an executor's
    ``read_log``. The run is checked *before* the last read, so output written just
    before the end is never lost.
    """
    pos = offset
    while True:
        finished = await run_in_threadpool(is_finished) if follow else True
        while True:
            data = await run_in_threadpool(read, pos)
            if not data:
                break
            pos += len(data)
            yield data
        if finished or await request.is_disconnected():
            return
        await asyncio.sleep(FOLLOW_POLL_S)
