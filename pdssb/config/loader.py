"""Reading a scene file: size-capped, parsed as TOML data, validated, errors as one line.

A scene is data. It is read with the standard TOML parser (no code, no includes), capped in
size and nesting before parsing, and validated against :mod:`pdssb.config.schema`. Every
failure becomes an :class:`~pdssb.errors.InputError` naming the field and the reason.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from ..errors import InputError
from .schema import Scene

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_SCENE_BYTES = 1_000_000
MAX_NESTING = 32


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("box", "sphere", "circle", "ellipsoid", "ellipse", "half_space", "polygon", "stl",
                      "semi_sphere", "semi_ellipsoid", "pyramid", "cube", "segment",
                      "displacement", "velocity", "traction", "function-before[parse()]",
                      "function-after[dump()]", "literal['free']", "float"):
            continue  # pydantic's union-branch tags: not part of the user's path
        elif str(part).startswith(("function-", "literal[")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "scene"


def format_validation_error(err: ValidationError) -> InputError:
    """The first problem pydantic found, as ``field: reason`` (with a count of the others)."""
    errors = err.errors(include_url=False)
    first = errors[0]
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "missing required key"
    msg = msg.removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return InputError(_field_path(tuple(first["loc"])), msg + more)


def _depth(obj, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(obj, dict):
        return max((_depth(v, level + 1) for v in obj.values()), default=level)
    if isinstance(obj, list):
        return max((_depth(v, level + 1) for v in obj), default=level)
    return level


def parse_scene_text(text: str, where: str = "scene") -> dict:
    """TOML text → plain dict, refusing oversized or deeply nested input."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SCENE_BYTES:
        raise InputError(where, f"file is larger than {MAX_SCENE_BYTES // 1000} kB; a scene is a short deck")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(where, f"not valid TOML ({e})") from None
    except RecursionError:
        raise InputError(where, "nesting too deep") from None
    if _depth(data) > MAX_NESTING:
        raise InputError(where, "nesting too deep")
    return data


def read_scene_file(path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise InputError(str(path), "no such scene file")
    try:
        size = p.stat().st_size
        if size > MAX_SCENE_BYTES:
            raise InputError(str(path), f"file is larger than {MAX_SCENE_BYTES // 1000} kB; a scene is a short deck")
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(str(path), f"cannot read ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(str(path), "not a UTF-8 text file") from None
    return parse_scene_text(text, str(path))


def set_dotted(data: dict, key: str, value: Any) -> None:
    """data[a][b][0][c] = value for key "a.b.0.c"; a missing table is created, a list index must exist."""
    parts = key.split(".")
    node: Any = data
    for q, part in enumerate(parts):
        last = q == len(parts) - 1
        where = ".".join(parts[: q + 1])
        if isinstance(node, list):
            if not part.isdigit():
                raise InputError(key, f"'{where}' indexes a list; use a number")
            i = int(part)
            if i >= len(node):
                raise InputError(key, f"'{where}': the list has {len(node)} entries")
            if last:
                node[i] = copy.deepcopy(value)
            else:
                node = node[i]
        elif isinstance(node, dict):
            if last:
                node[part] = copy.deepcopy(value)
            else:
                if part not in node:
                    node[part] = {}
                node = node[part]
        else:
            raise InputError(key, f"'{'.'.join(parts[:q])}' is a value, not a table or list")


def validate_scene(data: dict) -> Scene:
    try:
        return Scene.model_validate(data)
    except ValidationError as e:
        raise format_validation_error(e) from None


def load_scene(path: str | Path) -> Scene:
    """Read, parse and validate a scene file (schema only; physics checks are in resolve)."""
    return validate_scene(read_scene_file(path))


def dump_scene(scene: Scene) -> str:
    """The resolved scene as TOML, every default filled in, quantities in readable units."""
    return tomli_w.dumps(scene.model_dump(mode="json", exclude_none=True))
