"""Where the project's shipped files are: the JSON Schemas and the default ruleset."""

from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
SCHEMA_DIR: Path = PROJECT_ROOT / "schemas"
DEFAULT_RULESET: Path = PROJECT_ROOT / "rulesets" / "default"
