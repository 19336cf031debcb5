"""Call-control apps: ``fn(session)`` run for a call whose ``switchboard_app`` channel
variable names them. Register with ``@register("name")`` in a module listed in
``CALLCONTROL_APP_MODULES``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from callcontrol import conf

App = Callable[..., None]
REGISTRY: dict[str, App] = {}


def register(name: str) -> Callable[[App], App]:
    def decorator(fn: App) -> App:
        REGISTRY[name] = fn
        return fn

    return decorator


def default_apps() -> dict[str, App]:
    for module in conf.setting("CALLCONTROL_APP_MODULES", conf.APP_MODULES):
        importlib.import_module(module)
    return dict(REGISTRY)
