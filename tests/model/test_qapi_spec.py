"""The model's copy of migration.json stays in step with the schema's definitions."""

from __future__ import annotations

from qmigtui.model import qapi_spec
from tests.conftest import migration_qapi


def test_spec_holds_every_definition_of_the_schema_file_unchanged():
    tables = {"struct": qapi_spec.STRUCTS, "enum": qapi_spec.ENUMS, "union": qapi_spec.UNIONS,
              "command": qapi_spec.COMMANDS, "event": qapi_spec.EVENTS}
    count = 0
    for expr in migration_qapi()["definitions"]:
        kind = next((k for k in tables if k in expr), None)
        if kind is None:
            continue
        body = {k: v for k, v in expr.items() if k != kind}
        assert tables[kind].get(expr[kind]) == body, expr[kind]
        count += 1
    assert count == sum(len(t) for t in tables.values())
