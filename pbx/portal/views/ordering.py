"""Lists whose order a writer sets: ring-group members, hold-music tracks. One partial
draws them (``portal/_ordered_list.html``: ↑/↓ and remove buttons, each one POST, and
``data-reorder-url`` for ``pbx/static/portal/reorder.js``, which posts a dragged order to
the same URL); :class:`OrderedListPage` answers those POSTs: the object's section alone
for htmx (the drag), with the refusal above the list and status 400 when the action
refuses, else the whole page (400) or a redirect back to it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render

from pbx.portal.views.base import PortalEditView, PortalPage

T = TypeVar("T")


@dataclass(frozen=True)
class OrderedItem:
    label: str  # shown
    name: str  # in the buttons' labels: "Move <name> up"
    extra: str = ""  # html after the label (a recording's state and player)
    remove_url: str | None = None  # removed there instead of with operation=remove
    toggle: str = ""  # a button posting operation=toggle ("Turn off", "Turn on"); "": none


def moved(items: Sequence[T], operation: str, position: str, what: str = "item") -> list[T]:
    """``items`` with the one at ``position`` moved one place up or down (the first
    stays first, the last last)."""
    if operation not in ("up", "down") or not position.isdigit() or not 0 <= int(position) < len(items):
        raise ValidationError(f"That {what} is no longer in the list; reload the page.")
    index, result = int(position), list(items)
    other = index - 1 if operation == "up" else index + 1
    if 0 <= other < len(result):
        result[index], result[other] = result[other], result[index]
    return result


def dragged(items: Sequence[T], order: str, missing: T) -> list[T]:
    """The items in a dragged order: ``order`` names their positions as drawn
    (``2,0,1``); a part that names none becomes ``missing``, for the action to refuse."""
    def pick(part: str) -> T:
        part = part.strip()
        return items[int(part)] if part.isdigit() and int(part) < len(items) else missing
    return [pick(part) for part in order.split(",")]


class OrderedListPage(PortalPage):
    """POSTs that change an object's ordered list; answers with its edit page's section."""

    edit_view_class: ClassVar[type[PortalEditView]]
    section_template: ClassVar[str]

    def edit_view(self, obj: models.Model) -> PortalEditView:
        edit = self.edit_view_class()
        edit.setup(self.request, pk=obj.pk)
        edit.identity = self.identity
        return edit

    def answer(self, obj: models.Model, refusals: Iterable[str] = (), status: int = 200,
               **extra: Any) -> HttpResponse:
        """The section (htmx) or the whole page, with ``refusals`` above the list."""
        edit = self.edit_view(obj)
        context = edit.context(object=obj, form=edit.build_form(obj),
                               delete_url=edit.url(edit.delete_url_name, obj),
                               order_errors=list(refusals), **edit.extra_context(obj, **extra))
        htmx = getattr(self.request, "htmx", None)
        template = self.section_template if htmx and not htmx.boosted else edit.template_name
        return render(self.request, template, context, status=status)

    def done(self, obj: models.Model, message: str) -> HttpResponse:
        """Saved: the section again for htmx, else back to the page, saying so."""
        htmx = getattr(self.request, "htmx", None)
        if htmx and not htmx.boosted:
            return self.answer(obj)
        messages.success(self.request, message)
        return redirect(self.url(self.edit_url_name, obj))
