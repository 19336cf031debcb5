"""Every route of the API, as the URLconf declares it: name, path pattern, methods."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

import tests

API_URLCONF = "switchboard.urls_api"
# The document and its viewers are public and hold no data.
PUBLIC_ROUTES = frozenset({"api-schema", "api-docs", "api-redoc"})


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    methods: tuple[str, ...]

    @property
    def account_scoped(self) -> bool:
        return "<int:account_id>" in self.pattern

    def url(self, account_id: int, pk: int = 1) -> str:
        path = self.pattern.replace("<int:account_id>", str(account_id))
        return "/" + re.sub(r"<int:\w+>", str(pk), path)


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def api_routes() -> list[Route]:
    found = []
    for pattern, entry in _walk(get_resolver(API_URLCONF).url_patterns):
        callback = entry.callback
        if entry.name in PUBLIC_ROUTES or not hasattr(callback, "cls"):
            continue
        actions = getattr(callback, "actions", None) or {}
        methods = tuple(sorted(m for m in actions if m not in ("head", "options")))
        found.append(Route(entry.name, pattern, methods))
    return found


def declared(attribute: str) -> set[str]:
    """The union of ``attribute`` (route names) over the test modules under tests/**/api/
    and their classes: what the generated checks read to know a route has its test class
    (``covered_routes``) or its query count (``query_counted_routes``)."""
    found: set[str] = set()
    root = Path(tests.__file__).parent
    for folder in root.rglob("api"):
        if not (folder / "__init__.py").exists():
            continue
        package = ".".join(("tests", *folder.relative_to(root).parts))
        for module in pkgutil.iter_modules([str(folder)]):
            if module.name.startswith("test_"):
                loaded = importlib.import_module(f"{package}.{module.name}")
                found.update(getattr(loaded, attribute, ()))
                for value in vars(loaded).values():
                    if isinstance(value, type) and value.__module__ == loaded.__name__:
                        found.update(getattr(value, attribute, ()))
    return found
