"""The lightweight tables the read-only views read (store.tables) agree with the models."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel

from sessionctl.store import models, tables
from sessionctl.store.types import UTCDateTime


@pytest.mark.parametrize(
    "light",
    [tables.program, tables.series, tables.round_, tables.member, tables.message, tables.response],
)
def test_each_column_is_the_models_column(light: object) -> None:
    assert models.Program  # the models fill SQLModel.metadata
    table = SQLModel.metadata.tables[light.name]  # type: ignore[attr-defined]
    for column in light.columns:  # type: ignore[attr-defined]
        assert column.name in table.columns, f"{light.name}.{column.name} is not in the models"
        model_type = table.columns[column.name].type
        # The same kind of value, read the same way (UTCDateTime makes aware UTC datetimes).
        same = model_type._type_affinity is column.type._type_affinity
        assert same, (light.name, column.name, model_type)
        assert isinstance(model_type, UTCDateTime) == isinstance(column.type, UTCDateTime)
