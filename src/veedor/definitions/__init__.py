"""Election definitions: everything country-specific, as data plus a registered parser.

``load_definition("ve-2024-presidential")`` loads a bundled definition; a path loads any file.
"""

from veedor.definitions.schema import (
    Candidate,
    DefinitionError,
    ElectionDefinition,
    GeoLevel,
    MapSpec,
    available_definitions,
    load_definition,
)

DEFAULT_DEFINITION = "ve-2024-presidential"

__all__ = [
    "DEFAULT_DEFINITION",
    "Candidate",
    "DefinitionError",
    "ElectionDefinition",
    "GeoLevel",
    "MapSpec",
    "available_definitions",
    "load_definition",
]
