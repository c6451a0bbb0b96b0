"""Immutable pictures of what the watcher knows, for the UI to render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qmigtui.analysis.history import HistoryView
from qmigtui.analysis.verdict import Forecast
from qmigtui.model.records import InfoRecord, ParametersRecord
from qmigtui.model.states import TERMINAL, Status
from qmigtui.qmp.session import ConnState

__all__ = ["TERMINAL", "DirtyRate", "EventLine", "SideState", "Snapshot"]


@dataclass(frozen=True)
class EventLine:
    """One QMP event as received: QEMU's timestamp, the side, name and data."""

    side: str
    name: str
    data: dict[str, Any]
    qemu_time: float  # QEMU's own timestamp (unix seconds); NaN when the peer sent none
    received: float  # our monotonic clock when it arrived
    seq: int = 0  # order of arrival across both sides


@dataclass(frozen=True)
class DirtyRate:
    """One calc-dirty-rate result: how much the guest dirtied per second over a window."""

    side: str
    seconds: float  # the measuring window
    bytes_per_s: float
    mode: str
    wall: float  # when it finished (unix seconds)
    vcpus: tuple[float, ...] = ()  # per-vCPU bytes/s, when QEMU measured per vCPU


@dataclass(frozen=True)
class ZeroShare:
    """The share of guest memory that is zero pages, from pages sampled across it (what the
    first pass of a precopy sends almost free)."""

    side: str
    share: float  # 0..1
    samples: int
    wall: float  # when it was taken (unix seconds)


@dataclass(frozen=True)
class SideState:
    """One endpoint: connection, latest migration info, configuration and what it supports."""

    name: str
    endpoint: str
    connection: ConnState  # connected / reconnecting / gone / connecting / closed
    reason: str | None = None
    qemu_version: str = ""
    info: InfoRecord | None = None
    capabilities: dict[str, bool] = field(default_factory=dict)
    parameters: ParametersRecord | None = None
    supported_commands: frozenset[str] = frozenset()
    capability_features: dict[str, tuple[str, ...]] = field(default_factory=dict)
    parameter_features: dict[str, tuple[str, ...]] = field(default_factory=dict)
    parameter_types: dict[str, str] = field(default_factory=dict)  # as this QEMU's schema says
    command_features: dict[str, tuple[str, ...]] = field(default_factory=dict)  # deprecated, …
    passes: int = 0
    kvm: bool | None = None  # the guest runs under KVM (query-kvm), None while not known
    pause_asked: bool = False  # a migrate-pause went out to this side (its pause is on purpose)
    changed_elsewhere: frozenset[str] = frozenset()  # capabilities and parameters another client set
    error: str | None = None  # last failure of a poll (protocol or timeout)
    problem: str | None = None  # a lasting one: an answer too large to read (its schema, say)
    polled: float = 0.0
    via: str = ""  # "libvirt" for a domain watched through libvirt's API
    limits: tuple[str, ...] = ()  # what that way of watching cannot give, in words

    @property
    def status(self) -> Status:
        return Status((self.info.text("status") if self.info is not None else None) or "none")

    @property
    def connected(self) -> bool:
        return self.connection == ConnState.CONNECTED


@dataclass(frozen=True)
class Snapshot:
    """Everything the UI shows at one moment; nothing in it changes after it is published.

    The histories are frozen views; the forecast is worked out where the snapshot is made,
    from its own fields (watch/context.py), and travels with it.
    """

    sides: tuple[SideState, ...]
    events: tuple[EventLine, ...]
    histories: Mapping[str, HistoryView]
    seq: int = 0
    read_only: bool = False
    lab: bool = False
    forecast: Forecast | None = field(default=None, compare=False, repr=False)
    measurements: tuple[DirtyRate, ...] = ()
    zero_shares: tuple[ZeroShare, ...] = ()
    wall: float = 0.0  # unix time when published (how old a measurement is)

    def side(self, name: str) -> SideState | None:
        return next((s for s in self.sides if s.name == name), None)

    @property
    def source(self) -> SideState:
        return self.sides[0]

    @property
    def destination(self) -> SideState | None:
        return self.side("destination")
