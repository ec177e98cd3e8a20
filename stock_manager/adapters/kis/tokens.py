"""One access token (and one approval key) per app key for the whole cluster.

:meth:`TokenManager.get` returns the shared credential, refreshing it ``refresh_margin``
seconds before it expires. Refreshing is single-flight: one process takes the store's lock
and issues; the others keep using the still-valid credential, or wait and read the new one.
Every attempt is recorded before the call, and no attempt is made within ``min_interval``
of the last one (KIS: one token per minute per app key, ``EGW00133``).

:meth:`TokenManager.invalidate` is the forced reissue after ``EGW00123``/``EGW00121``: it
names the generation that was refused, so fifty workers refused with generation 7 cause one
issuance (generation 8), and all fifty then use it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeGuard

from stock_manager.adapters.kis.errors import KISAuthError, KISRateLimitError
from stock_manager.adapters.kis.token_store import Credential, TokenStore

log = logging.getLogger("stock_manager.kis")


@dataclass(frozen=True, slots=True)
class Issued:
    """What an issuer returns: the secret and its expiry (epoch seconds)."""

    value: str = field(repr=False)
    expires_at: float


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    refresh_margin: float = 1800.0  # refresh this long before expiry
    min_interval: float = 60.0  # between issuance attempts (EGW00133)
    wait_timeout: float = 75.0  # how long a caller waits for a usable credential
    lock_ttl: float = 90.0  # must exceed min_interval plus one issuance call
    poll: float = 0.05


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TokenManager:
    """The shared credential of one kind ("token" or "approval") for one store key."""

    def __init__(
        self,
        store: TokenStore,
        key: str,
        issuer: Callable[[], Issued],
        policy: TokenPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.key, self._issuer = store, key, issuer
        self.policy = policy or TokenPolicy()
        self._clock, self._sleep = clock, sleep
        self._owner = _owner()
        self._local = threading.Lock()
        self._cached: Credential | None = None
        self.issued = 0  # issuances made by this process (observability, tests)

    def __repr__(self) -> str:
        return f"TokenManager({self.key!r}, cached={self._cached!r})"

    def get(self) -> Credential:
        """A credential valid for longer than the refresh margin if at all possible."""
        cached = self._cached
        if cached and cached.valid(self._clock(), self.policy.refresh_margin):
            return cached
        return self._refresh(cached.generation if cached else 0, force=False)

    def invalidate(self, refused: Credential) -> Credential:
        """KIS refused ``refused``: return a newer generation, issuing it if nobody has."""
        log.warning("KIS refused %s generation %d; reissuing", self.key, refused.generation)
        return self._refresh(refused.generation, force=True)

    def peek(self) -> Credential | None:
        """The stored credential without refreshing (status displays)."""
        return self.store.load(self.key)

    # -- internals -------------------------------------------------------------------------
    def _usable(
        self, stored: Credential | None, seen: int, force: bool, fresh: bool
    ) -> TypeGuard[Credential]:
        if stored is None or not stored.valid(self._clock()):
            return False
        if force:
            return stored.generation > seen
        return not fresh or stored.valid(self._clock(), self.policy.refresh_margin)

    def _refresh(self, seen: int, force: bool) -> Credential:
        with self._local:
            deadline = self._clock() + self.policy.wait_timeout
            waiting = False
            while True:
                stored = self.store.load(self.key)
                if self._usable(stored, seen, force, fresh=True):
                    return self._keep(stored)
                if self.store.try_lock(self.key, self._owner, self.policy.lock_ttl):
                    try:
                        return self._keep(self._issue_locked(seen, force, deadline))
                    finally:
                        self.store.unlock(self.key, self._owner)
                if self._usable(stored, seen, force, fresh=False):
                    return self._keep(stored)  # someone else is refreshing; this one still works
                if self._clock() >= deadline:
                    raise KISAuthError(
                        f"no usable KIS {self.key} within {self.policy.wait_timeout:g}s"
                    )
                if not waiting:
                    waiting = True
                    log.info(
                        "waiting up to %.0fs for another process to issue the KIS %s",
                        deadline - self._clock(),
                        self.key,
                    )
                self._sleep(self.policy.poll)

    def _keep(self, credential: Credential) -> Credential:
        self._cached = credential
        return credential

    def _issue_locked(self, seen: int, force: bool, deadline: float) -> Credential:
        while True:
            stored = self.store.load(self.key)  # re-read: another holder may have finished
            if self._usable(stored, seen, force, fresh=True):
                return stored
            wait = self._wait_for_slot()
            if wait > 0 and not force and self._usable(stored, seen, force, fresh=False):
                return stored  # too soon to issue; a later call refreshes it
            if wait > 0:
                if self._clock() + wait > deadline:
                    raise KISRateLimitError(
                        f"KIS {self.key}: next issuance allowed in {wait:.0f}s", code="EGW00133"
                    )
                log.info(
                    "waiting %.0fs to issue a new KIS %s: KIS issues one per minute per app "
                    "key (EGW00133)",
                    wait,
                    self.key,
                )
                self._sleep(wait)
                continue
            issued = self._attempt()
            if issued is not None:
                generation = max(stored.generation if stored else 0, seen) + 1
                credential = Credential(issued.value, self._clock(), issued.expires_at, generation)
                self.store.save(self.key, credential)
                return credential

    def _wait_for_slot(self) -> float:
        last = self.store.last_attempt(self.key)
        if last is None:
            return 0.0
        return max(0.0, last + self.policy.min_interval - self._clock())

    def _attempt(self) -> Issued | None:
        self.store.mark_attempt(self.key, self._clock())
        try:
            issued = self._issuer()
        except KISRateLimitError as exc:  # EGW00133 anyway (another client, clock skew)
            log.warning("KIS refused to issue %s: %s; waiting", self.key, exc)
            return None
        self.issued += 1
        log.info("issued a new KIS %s", self.key)
        return issued
