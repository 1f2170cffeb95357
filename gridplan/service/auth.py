"""API keys: where they come from, and the check of the ``X-API-Key`` header.

Keys come from ``$GRIDPLAN_API_KEYS`` (comma-separated) and/or a key file (one key a
line; blank lines and ``#`` comments skipped). Without a key the service refuses to
start, unless ``--no-auth`` is given *and* it listens on a loopback address only.
Keys are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gridplan.errors import InputError, Problem
from gridplan.service.problems import ApiProblem

__all__ = ["API_KEY_HEADER", "KEYS_ENV", "Auth", "is_loopback", "load_keys"]

KEYS_ENV = "GRIDPLAN_API_KEYS"
API_KEY_HEADER = "X-API-Key"
#: Shortest key accepted (characters): a short key is guessed.
MIN_KEY_LENGTH = 16


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ``::1``)."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _file_keys(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            Problem(f"cannot read the key file ({exc})", str(path), "give a readable text file")
        ) from None
    return [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]


def load_keys(
    key_file: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> frozenset[str]:
    """The accepted keys: ``$GRIDPLAN_API_KEYS`` plus the key file's lines."""
    env = os.environ if env is None else env
    keys = [k.strip() for k in env.get(KEYS_ENV, "").split(",") if k.strip()]
    if key_file is not None:
        keys += _file_keys(Path(key_file))
    short = [k for k in keys if len(k) < MIN_KEY_LENGTH]
    if short:
        raise InputError(
            Problem(
                f"{len(short)} API key(s) shorter than {MIN_KEY_LENGTH} characters",
                f"{KEYS_ENV} / --api-key-file",
                "use long random keys, e.g. from "
                "`python -c 'import secrets;print(secrets.token_urlsafe(32))'`",
            )
        )
    return frozenset(keys)


@dataclass(frozen=True)
class Auth:
    """The accepted keys; ``required=False`` only for ``--no-auth`` on loopback."""

    keys: frozenset[str] = frozenset()
    required: bool = True

    @classmethod
    def build(cls, keys: frozenset[str], *, no_auth: bool, host: str) -> Auth:
        """Check the combination of keys, ``--no-auth`` and host; raise
        :class:`InputError` when the service would be open or unusable."""
        if no_auth:
            if not is_loopback(host):
                raise InputError(
                    Problem(
                        f"--no-auth with host {host!r}: the service would be open to the network",
                        "--no-auth",
                        "listen on 127.0.0.1 only, or drop --no-auth and give API keys",
                    )
                )
            return cls(keys, required=False)
        if not keys:
            raise InputError(
                Problem(
                    "no API key given",
                    f"{KEYS_ENV} / --api-key-file",
                    f"set {KEYS_ENV}=key1,key2 or give --api-key-file (one key a line); "
                    "--no-auth only on 127.0.0.1",
                )
            )
        return cls(keys, required=True)

    def check(self, given: str | None) -> None:
        """Raise a 401 problem without a key and a 403 problem for an unknown key."""
        if not self.required:
            return
        if not given:
            raise ApiProblem(
                401,
                f"this endpoint needs an API key in the {API_KEY_HEADER} header",
                field=API_KEY_HEADER,
                fix=f"send the header {API_KEY_HEADER}: <your key>; ask the operator for a key",
                kind="api-key-missing",
            )
        data = given.encode("utf-8", "replace")
        if not any(hmac.compare_digest(data, k.encode("utf-8")) for k in self.keys):
            raise ApiProblem(
                403,
                "the API key is not accepted",
                field=API_KEY_HEADER,
                fix="check the key for typos or ask the operator for a valid one",
                kind="api-key-rejected",
            )
