"""`${env:VAR}`, `${VAR}`, `${env:VAR:-default}` and `$$` in config values, as the collector does.

A plain (unquoted) scalar that is exactly one reference takes the type its expanded text has in
YAML, so `port: ${env:PORT}` is an int; anything else stays a string. A bare `$VAR` is left as
it is; an unset variable without a default expands to the empty string, like otelcol.
"""

from __future__ import annotations

import os
import re
from typing import Any

import yaml

from summitcol.exceptions import ConfigError

_REFERENCE = re.compile(r"\$\$|\$\{([^{}]*)\}")
_ENV_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,199}$")


def _resolve(body: str, empty: list[str] | None = None) -> str:
    """The value of one reference; the name of a variable that is unset or empty and has no
    default is added to `empty` (otelcol warns about those: "Configuration references unset
    environment variable")."""
    reference = f"${{{body}}}"
    if body.startswith("env:"):
        body = body[len("env:"):]
    name, sep, default = body.partition(":-")
    if ":" in name:
        scheme = name.partition(":")[0]
        raise ConfigError(f"unsupported config provider '{scheme}' in '{reference}'; only 'env' is available")
    if _ENV_NAME.match(name) is None:
        raise ConfigError(f"'{name}' in '{reference}' is not a valid environment variable name (letters, digits, _)")
    value = os.environ.get(name)
    if value is None or value == "":
        if sep:
            return default
        if empty is not None:
            empty.append(name)
        return ""
    return value


def expand_scalar(text: str, *, plain: bool, empty: list[str] | None = None) -> Any:
    """Expand every reference in `text`; re-type a plain scalar that was one whole reference.
    Variables that were unset or empty (without a default) are added to `empty`."""
    whole = _REFERENCE.fullmatch(text)
    expanded = _REFERENCE.sub(lambda m: "$" if m.group(0) == "$$" else _resolve(m.group(1), empty), text)
    if plain and whole is not None and whole.group(0) != "$$":
        try:
            typed = yaml.safe_load(expanded) if expanded else None
        except yaml.YAMLError:
            return expanded
        return typed
    return expanded
