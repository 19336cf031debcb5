"""Channel variables folded in from events when they are read, not when events arrive.

Every event FreeSWITCH sends in ``myevents`` mode carries the channel's whole variable dump
(~200 ``variable_*`` headers), two per command; apps read a handful of variables now and
then. So an event's headers (still URL-encoded, :attr:`EventHeaders.raw`) are only
remembered -- one C-level ``dict.update`` -- and are stripped of their prefix and decoded
the next time anything reads the dict. The result is the dict that copying every event in
as it came would have built: same values, same key order (a key is placed where it first
appeared), writes in between keep their place (a read or write folds what came before it
first).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

PREFIX = "variable_"
_CUT = len(PREFIX)


class ChannelVariables(dict):
    """A ``dict`` of channel variables (decoded, without the ``variable_`` prefix) that
    folds in pending event headers before any read or write."""

    __slots__ = ("_pending",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending: dict[str, str] = {}

    @classmethod
    def of_event(cls, raw_headers: Mapping[str, str]) -> ChannelVariables:
        """The variables of one event (its headers as received)."""
        variables = cls()
        variables.fold(raw_headers)
        return variables

    def fold(self, raw_headers: Mapping[str, str]) -> None:
        """Remember an event's headers (name -> URL-encoded value; other headers than
        ``variable_*`` are ignored) to be merged in at the next read."""
        self._pending.update(raw_headers)

    def _merge(self) -> None:
        pending = self._pending
        if pending:
            self._pending = {}
            store = dict.__setitem__
            for name, value in pending.items():
                if name.startswith(PREFIX):
                    store(self, name[_CUT:], unquote(value))

    # Every dict method that reads or writes merges first. C code that takes a dict
    # subclass apart (dict(x), {**x}, f(**x), json) goes through keys()/__getitem__ or
    # items() because __iter__ is overridden.

    def __getitem__(self, key):
        self._merge()
        return super().__getitem__(key)

    def __setitem__(self, key, value) -> None:
        self._merge()
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        self._merge()
        super().__delitem__(key)

    def __contains__(self, key) -> bool:
        self._merge()
        return super().__contains__(key)

    def __iter__(self):
        self._merge()
        return super().__iter__()

    def __reversed__(self):
        self._merge()
        return super().__reversed__()

    def __len__(self) -> int:
        self._merge()
        return super().__len__()

    def __eq__(self, other) -> bool:
        self._merge()
        if isinstance(other, ChannelVariables):
            other._merge()
        return super().__eq__(other)

    def __ne__(self, other) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._merge()
        return super().__repr__()

    def __or__(self, other):
        self._merge()
        return dict(self) | other

    def __ror__(self, other):
        self._merge()
        return other | dict(self)

    def __ior__(self, other):
        self._merge()
        super().update(other)
        return self

    def __reduce__(self):
        self._merge()
        return (dict, (dict(self),))

    def __sizeof__(self) -> int:
        return super().__sizeof__() + self._pending.__sizeof__()

    def get(self, key, default=None):
        self._merge()
        return super().get(key, default)

    def keys(self):
        self._merge()
        return super().keys()

    def values(self):
        self._merge()
        return super().values()

    def items(self):
        self._merge()
        return super().items()

    def copy(self) -> dict:
        self._merge()
        return dict(self)

    def pop(self, key, *default):
        self._merge()
        return super().pop(key, *default)

    def popitem(self):
        self._merge()
        return super().popitem()

    def setdefault(self, key, default=None):
        self._merge()
        return super().setdefault(key, default)

    def update(self, *args, **kwargs) -> None:
        self._merge()
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._pending = {}
        super().clear()
