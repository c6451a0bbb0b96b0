"""What a command that got no answer in time did after all, read back from QEMU."""

from __future__ import annotations

from typing import Any

from qmigtui.model import capabilities as capmodel
from qmigtui.model import parameters as parammodel
from qmigtui.model.records import parse_list, parse_record, to_wire
from qmigtui.qmp.session import Session


async def outcome_of(session: Session, command: str, args: dict[str, Any]) -> str:
    """``applied`` or ``not applied (…)`` for a configuration change, else the migration's
    status; raises QmpError while QEMU does not answer."""
    if command == "migrate-set-parameters":
        params = parse_record("MigrationParameters", await session.execute("query-migrate-parameters"))
        missed = [k for k, v in args.items() if to_wire(parammodel.value_of(params, k)) != v]
        return "applied" if not missed else f"not applied ({', '.join(missed)} as before)"
    if command == "migrate-set-capabilities":
        caps = capmodel.capabilities_of(parse_list(
            "MigrationCapabilityStatus", await session.execute("query-migrate-capabilities")))
        wanted = {str(c.get("capability")): c.get("state") for c in args.get("capabilities", ())
                  if isinstance(c, dict)}
        missed = [k for k, v in wanted.items() if caps.get(k) != v]
        return "applied" if not missed else f"not applied ({', '.join(missed)} as before)"
    status = parse_record("MigrationInfo", await session.execute("query-migrate")).text("status")
    return f"QEMU answers again; migration status {status or 'none'}"
