"""Job identity on the wire: a per-job id and secret, and the connection handshake.

Defined in :mod:`miniflow.core.job_auth` (moved there so that ``tf.train.Server`` uses
the same HMAC handshake); re-exported here for the parameter server.
"""

from __future__ import annotations

from miniflow.core.job_auth import (
    SECRET_ENV as SECRET_ENV,
    AuthError as AuthError,
    JobIdentity as JobIdentity,
    mac as mac,
    new_identity as new_identity,
    nonce as nonce,
    same as same,
)

__all__ = ["AuthError", "JobIdentity", "SECRET_ENV", "new_identity", "mac", "nonce", "same"]
