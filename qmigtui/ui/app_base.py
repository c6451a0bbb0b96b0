"""What every part of the app's key handling shares: the desk, and asking, running and
reporting an action."""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from textual.actions import parse as parse_action
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.widgets import Static

from qmigtui.desk.facade import CHANGE, ActionError, Desk, NoAnswer, Refused
from qmigtui.ui.dialogs import Confirm
from qmigtui.watch.snapshot import Snapshot

INFO_S, WARNING_S, ERROR_S = 5.0, 8.0, 10.0  # longest a toast stays, by severity


def declared(cls: type) -> tuple[Binding, ...]:
    """The bindings a class declares itself (not those it inherits)."""
    return tuple(b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding))


@functools.cache
def actions_of(cls: type) -> frozenset[str]:
    """The actions a part of the app binds keys to: it decides when they apply."""
    return frozenset(parse_action(b.action)[1] for b in declared(cls))


class AppBase(App[int]):
    """The app's state the key handlers read, and the helpers they share."""

    desk: Desk | None
    snapshot: Snapshot | None
    hints: bool  # the verdict's remedies offered
    _topline_text: str
    messages: deque[tuple[str, str, str]]  # (time, severity, text) of warnings and errors
    notified: deque[tuple[str, str]]  # (severity, text) of every message, shown or not
    keys: dict[str, str]  # binding id -> key, as [keys] in config.toml remapped it
    _serious_until = 0.0  # monotonic time a warning or error shown stays up to

    def key_name(self, binding: Binding) -> str:
        """The key in force as a person reads it: ``+``, ``]``, ``space``, ``ctrl+p`` (the
        user's own where ``[keys]`` remapped it)."""
        if binding.id in self.keys:
            return self.get_key_display(replace(binding, key=self.keys[binding.id], key_display=None))
        return binding.key_display or self.get_key_display(binding)

    def key_for(self, binding_id: str) -> str:
        """The key in force for the binding ``binding_id`` (for words that name a key)."""
        found = next((b for b in self.all_bindings() if b.id == binding_id), None)
        return self.key_name(found) if found is not None else binding_id

    @classmethod
    def all_bindings(cls) -> tuple[Binding, ...]:
        """Every key of the app, each declared by the part that handles it, in the order
        Textual merges them (the footer's)."""
        return tuple(b for base in reversed(cls.__mro__) if issubclass(base, AppBase)
                     for b in declared(base))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Each part of the app says when its own keys apply (overriding this, then asking
        the next part); a key no part claims always applies."""
        return True

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """A one-line message over the footer that never reads markup (what it quotes may come
        from QEMU or a file): the newest replaces the one before, except that information
        does not hide a warning or error still showing; information stays at most INFO_S
        seconds; warnings and errors are kept in the message log (l) as well."""
        limit = {"information": INFO_S, "warning": WARNING_S}.get(severity, ERROR_S)
        shown_for = min(timeout or limit, limit)
        self.notified.append((severity, message))
        if severity != "information":
            self.messages.append((time.strftime("%H:%M:%S"), severity, message))
            self._serious_until = time.monotonic() + shown_for
        elif time.monotonic() < self._serious_until:
            return
        self.clear_notifications()
        super().notify(message, title=title, severity=severity, timeout=shown_for, markup=markup)

    def _set_topline(self, text: str) -> None:
        if text != self._topline_text:
            self._topline_text = text
            self.query_one("#topline", Static).update(text, layout=False)

    def _explain(self, action: str) -> bool:
        if self.desk is None:
            self.notify("not connected yet", severity="warning")
            return False
        permission = self.desk.can(action)
        if not permission.ok:
            self.notify(f"{action}: {permission.why}", severity="warning", markup=False)
        return permission.ok

    def _run(self, key: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        desk = self.desk
        assert desk is not None

        async def go() -> None:
            try:
                await desk.once(key, make())
            except NoAnswer as e:  # it may have been applied: not an error, not a success
                self.notify(f"{e.side}: {e.command}: no answer yet: it may have been applied; "
                            "what QEMU did is read back and audited when it answers",
                            severity="warning", timeout=15, markup=False)
                return
            except Refused as e:  # QEMU's own words
                self.notify(f"{e.side} refused {e.command}: {e.desc}", severity="error", timeout=10,
                            markup=False)
                return
            except ActionError as e:
                self.notify(str(e), severity="error", timeout=10, markup=False)
                return
            self.notify(done, markup=False)
        self.run_worker(go(), group=key, exit_on_error=False)

    def _confirm_then(self, action: str, question: str, detail: str,
                      make: Callable[[], Awaitable[Any]], done: str) -> None:
        if not self._explain(action):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(action, make, done)
        self.push_screen(Confirm(question, detail), answered)

    def _writable(self) -> Desk | None:
        """The desk when changes may be sent; otherwise say why and return None."""
        if self.desk is None:
            return None
        allowed = self.desk.can(CHANGE)
        if not allowed.ok:
            self.notify(allowed.why, severity="warning", markup=False)
            return None
        return self.desk
