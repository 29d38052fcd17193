"""Declarative site plugins: ``*.toml`` files turned into :class:`SiteSpec` objects.

This is a built-in plugin, registered like any third-party one. Errors name the file, the
line and the field, and suggest the field that was probably meant.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from plugins.hookspecs import hookimpl
from plugins.spec import SiteSpec

# a field's place in a plugin: names and list indexes, as pydantic's error locations
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PluginProblem:
    """One thing wrong with a plugin file."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {what}{self.message}"


class PluginError(Exception):
    """A plugin could not be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: list[PluginProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_site_file(path: Path) -> SiteSpec:
    """Read and validate one declarative plugin; raise :class:`PluginError` naming every
    problem with its line and field."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginError([PluginProblem(source, None, None, f"cannot read: {exc}")]) from exc
    return parse_site_toml(text, source)


def parse_site_toml(text: str, source: str = "<string>") -> SiteSpec:
    """Validate the text of a declarative plugin (see :func:`load_site_file`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise PluginError(
            [PluginProblem(source, int(line.group(1)) if line else None, None, f"invalid TOML: {exc}")]
        ) from exc
    try:
        spec = SiteSpec.model_validate({**data, "source": source})
    except ValidationError as exc:
        problems = [_problem(text, source, error) for error in exc.errors()]
        raise PluginError(problems) from exc
    scope = spec.url_problems()
    if scope:
        raise PluginError([PluginProblem(source, _locate(text, loc), _dotted(loc), message) for loc, message in scope])
    return spec


def _problem(text: str, source: str, error: ErrorDetails) -> PluginProblem:
    loc = tuple(error["loc"])
    keys = _strip_tags(loc)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        known = _known_fields(keys[:-1])
        guess = difflib.get_close_matches(str(keys[-1]), known, n=1)
        message = "unknown field" + (f"; did you mean '{guess[0]}'?" if guess else "")
        if known:
            message += f" (expected one of: {', '.join(sorted(known))})"
    elif error["type"] == "missing":
        message = "required field is missing"
    elif "input" in error and not isinstance(error["input"], dict | list):
        message = f"{message} (got {error['input']!r})"
    return PluginProblem(source, _locate(text, keys), _dotted(keys), message)


def _dotted(keys: Loc) -> str:
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _unwrap_models(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, list, Annotated unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_unwrap_models(arg))
    return found


def _model_at(keys: Loc) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [SiteSpec]
    for key in keys:
        if isinstance(key, int):
            continue
        next_models: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(key)
            if field is not None:
                next_models.extend(_unwrap_models(field.annotation))
        models = next_models
    return models


def _known_fields(keys: Loc) -> list[str]:
    return sorted({name for model in _model_at(keys) for name in model.model_fields} - {"source"})


def _strip_tags(loc: Loc) -> Loc:
    """Drop pydantic's union/discriminator tags (e.g. 'next_link') from an error location."""
    keys: list[str | int] = []
    tagged_at = -1
    for item in loc:
        if isinstance(item, str) and keys and not isinstance(keys[-1], int) and tagged_at != len(keys):
            models = _model_at(tuple(keys))
            if len(models) > 1 and not any(item in m.model_fields for m in models):
                tagged_at = len(keys)  # a discriminator value right after its union field
                continue
        keys.append(item)
    return tuple(keys)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\s\"]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"]+)\s*=")


def _locate(text: str, keys: Loc) -> int | None:
    """Best-effort line of the field ``keys`` in TOML ``text`` (1-based), or None."""
    counters: dict[Loc, int] = {}
    table: Loc = ()
    best: tuple[int, int] | None = None  # (score, line)
    wanted = tuple(keys)
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            parts = tuple(p.strip().strip('"') for p in header.group(2).split("."))
            resolved: list[str | int] = []
            for i, part in enumerate(parts):
                resolved.append(part)
                prefix = tuple(parts[: i + 1])
                if header.group(1) == "[[" and i == len(parts) - 1:
                    counters[prefix] = counters.get(prefix, -1) + 1
                    resolved.append(counters[prefix])
                elif prefix in counters:
                    resolved.append(counters[prefix])
            table = tuple(resolved)
            candidate = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            candidate = (*table, key.group(1).strip('"'))
            # keys of an inline table on this line: paging = { type = "x", next = "…" }
            inline = re.findall(r"[{,]\s*([A-Za-z0-9_\-]+)\s*=", line)
            if wanted and wanted[-1] in inline and candidate == wanted[: len(candidate)]:
                candidate = (*candidate, wanted[-1])
        score = _common_prefix(candidate, wanted)
        if score == len(candidate) and (best is None or score > best[0]):
            best = (score, number)
    return best[1] if best else None


def _common_prefix(a: Loc, b: Loc) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class DeclarativeSites:
    """The built-in plugin that registers every ``*.toml`` file of the plugin folders.

    Files that fail validation are reported through ``on_error`` and skipped, so one bad
    plugin never stops the others from loading."""

    def __init__(self, folders: list[Path], on_error: Callable[[PluginError], None]):
        self.folders = folders
        self.on_error = on_error

    @hookimpl
    def register_sites(self, register: Callable[[SiteSpec], None]) -> None:
        for folder in self.folders:
            for path in sorted(folder.glob("*.toml")):
                try:
                    spec = load_site_file(path)
                except PluginError as exc:
                    self.on_error(exc)
                    continue
                register(spec)


__all__ = ["DeclarativeSites", "PluginError", "PluginProblem", "load_site_file", "parse_site_toml"]
