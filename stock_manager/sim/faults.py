"""Fault injection: a profile of probabilities and delays, switchable at run time.

The profile is plain data (``POST /_sim/faults`` takes the same keys as ``--faults``); the
decisions draw from one seeded generator so a chaos run repeats with the same seed. One-off
actions (revoke or expire every token, drop every WebSocket) are not part of the profile:
the admin endpoint runs them once.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "none": {},
    "flaky": {"http500_rate": 0.02, "latency_ms": 20, "latency_jitter_ms": 30},
    "chaos": {
        "http500_rate": 0.05,
        "order_timeout_rate": 0.05,
        "rate_limit_burst_rate": 0.02,
        "ws_drop_rate": 0.01,
        "exchange_reject_rate": 0.02,
        "latency_ms": 30,
        "latency_jitter_ms": 70,
    },
}


# Replies to an accepted order that are not a KIS answer (issue 12: each must leave the
# client's order UNKNOWN, never REJECTED). ``reset`` drops the connection at once.
REPLY_SHAPES = (
    "html200",
    "empty200",
    "truncated",
    "undecodable",
    "html404",
    "html502",
    "json404",
    "no_odno",
    "odno0",
    "no_msg_cd",
    "reset",
)


class FaultSpecError(ValueError):
    """A fault profile names an unknown key or an impossible value."""


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """How often each fault happens; all zero means a well-behaved server."""

    http500_rate: float = 0.0  # /uapi requests answered HTTP 500 EGW00001 (nothing executed)
    order_timeout_rate: float = 0.0  # orders accepted, then the reply never comes
    order_timeout_hang_s: float = 30.0  # how long the hung reply waits before the socket drops
    rate_limit_burst_rate: float = 0.0  # chance that a request starts an EGW00201 burst
    rate_limit_burst_len: int = 5  # requests rejected in one burst
    ws_drop_rate: float = 0.0  # per connection and second: the socket drops without a close
    exchange_reject_rate: float = 0.0  # accepted orders the exchange then refuses (notice)
    latency_ms: float = 0.0  # added to every /uapi reply
    latency_jitter_ms: float = 0.0  # uniform extra 0..jitter
    paths: tuple[str, ...] = ()  # limit http500/latency to paths containing one of these
    # Orders accepted, then answered with a reply that is no KIS answer (REPLY_SHAPES): the
    # order exists at the exchange whatever the client makes of the reply.
    order_reply_fault_rate: float = 0.0
    order_reply_faults: tuple[str, ...] = ()  # the shapes to draw from; empty: all of them

    def __post_init__(self) -> None:
        for name in ("http500_rate", "order_timeout_rate", "rate_limit_burst_rate"):
            _check_rate(name, getattr(self, name))
        for name in ("ws_drop_rate", "exchange_reject_rate", "order_reply_fault_rate"):
            _check_rate(name, getattr(self, name))
        unknown = sorted(set(self.order_reply_faults) - set(REPLY_SHAPES))
        if unknown:
            raise FaultSpecError(f"unknown order_reply_faults {unknown}; known: {REPLY_SHAPES}")
        for name in ("order_timeout_hang_s", "latency_ms", "latency_jitter_ms"):
            if getattr(self, name) < 0:
                raise FaultSpecError(f"{name} must not be negative")
        if self.rate_limit_burst_len < 1:
            raise FaultSpecError("rate_limit_burst_len must be at least 1")

    def updated(self, changes: dict[str, Any]) -> FaultProfile:
        """This profile with ``changes`` applied; unknown keys raise :class:`FaultSpecError`."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise FaultSpecError(f"unknown fault keys {unknown}; known: {sorted(known)}")
        coerced: dict[str, Any] = {}
        for key, value in changes.items():
            coerced[key] = _coerce(key, known[key].type, value)
        return replace(self, **coerced)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paths"] = list(self.paths)
        data["order_reply_faults"] = list(self.order_reply_faults)
        return data


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"{name} must be within 0..1, got {value}")


def _coerce(key: str, annotation: object, value: Any) -> Any:
    try:
        if key in ("paths", "order_reply_faults"):
            items = value.split("|") if isinstance(value, str) else list(value)
            return tuple(str(item) for item in items if str(item))
        if annotation in ("int", int):
            return int(value)
        return float(value)
    except (TypeError, ValueError) as exc:
        raise FaultSpecError(f"{key}: {value!r} is not a valid value") from exc


def parse_faults(spec: str | None) -> FaultProfile:
    """Parse ``--faults``: a preset name, a JSON object, or ``key=value,key=value``."""
    if not spec or not spec.strip():
        return FaultProfile()
    text = spec.strip()
    if text in PRESETS:
        return FaultProfile().updated(PRESETS[text])
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultSpecError(f"--faults is not valid JSON: {exc}") from exc
        return FaultProfile().updated(data)
    changes: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise FaultSpecError(f"expected key=value in --faults, got {part!r}")
        changes[key.strip()] = value.strip()
    return FaultProfile().updated(changes)


class FaultInjector:
    """Draws fault decisions from a seeded generator for the current profile."""

    def __init__(self, profile: FaultProfile, seed: int) -> None:
        self.profile = profile
        self._rng = random.Random(seed ^ 0x5EED_FA17)
        self._burst_left = 0

    def _applies(self, path: str) -> bool:
        paths = self.profile.paths
        return not paths or any(part in path for part in paths)

    def latency_seconds(self, path: str) -> float:
        p = self.profile
        if not (p.latency_ms or p.latency_jitter_ms) or not self._applies(path):
            return 0.0
        return (p.latency_ms + self._rng.uniform(0.0, p.latency_jitter_ms)) / 1000.0

    def http500(self, path: str) -> bool:
        rate = self.profile.http500_rate
        return rate > 0 and self._applies(path) and self._rng.random() < rate

    def rate_limit_burst(self) -> bool:
        """Whether this request falls in an injected EGW00201 burst."""
        if self._burst_left > 0:
            self._burst_left -= 1
            return True
        rate = self.profile.rate_limit_burst_rate
        if rate > 0 and self._rng.random() < rate:
            self._burst_left = self.profile.rate_limit_burst_len - 1
            return True
        return False

    def order_timeout(self) -> bool:
        rate = self.profile.order_timeout_rate
        return rate > 0 and self._rng.random() < rate

    def order_reply_fault(self) -> str | None:
        """The shape to mangle this accepted order's reply into, or ``None``."""
        rate = self.profile.order_reply_fault_rate
        if not rate or self._rng.random() >= rate:
            return None
        return self._rng.choice(self.profile.order_reply_faults or REPLY_SHAPES)

    def exchange_reject(self) -> bool:
        rate = self.profile.exchange_reject_rate
        return rate > 0 and self._rng.random() < rate

    def ws_drop(self, seconds: float) -> bool:
        rate = self.profile.ws_drop_rate
        return rate > 0 and self._rng.random() < min(1.0, rate * seconds)
