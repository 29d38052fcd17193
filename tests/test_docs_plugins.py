"""docs/plugins.md documents every hook, every hook argument and every declarative field."""

import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from plugins import hookspecs
from plugins.spec import (
    Column,
    DetailRules,
    HanwebPaging,
    ListRules,
    NextLinkPaging,
    PostbackPaging,
    QueryParamPaging,
    SiteInfo,
    TrsPaging,
)

DOC = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, hookspecs.PROJECT + "_spec")]


def _section(hook: str) -> str:
    match = re.search(rf"^### `{hook}`\n(.*?)(?=^#{{2,3}} |\Z)", DOC, re.DOTALL | re.MULTILINE)
    assert match, f"docs/plugins.md has no '### `{hook}`' section"
    return match.group(1)


def test_hookspecs_are_found():
    assert {"register_sites", "list_entries", "next_list_pages", "extraction_hints",
            "process_article"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_and_argument_is_documented(hook):
    section = _section(hook)
    for arg in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert re.search(rf"^\* `{arg}`:", section, re.MULTILINE), f"argument {arg!r} of {hook} is undocumented"
    assert getattr(hookspecs, hook).__doc__, f"{hook} has no docstring in plugins/hookspecs.py"


@pytest.mark.parametrize("model", [SiteInfo, ListRules, DetailRules, Column, NextLinkPaging, QueryParamPaging,
                                   PostbackPaging, TrsPaging, HanwebPaging])
def test_every_declarative_field_is_documented(model: type[BaseModel]):
    for name in model.model_fields:
        if name == "type":
            continue
        assert f"`{name}`" in DOC, f"{model.__name__}.{name} is not documented in docs/plugins.md"


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "plugins" / "sites").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_every_bundled_plugin_is_a_worked_example_in_the_docs(path):
    assert path.read_text(encoding="utf-8").rstrip("\n") in DOC, f"docs/plugins.md does not show {path.name} as it is"
