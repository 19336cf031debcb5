"""The generic pages every object of a face (the tenant portal today) is declared on: a
list, an edit page (create and change), a delete page.

A page is a declaration -- the queryset, the FilterSet shared with the API, the table's
columns, the form, the action -- and these classes do the rest the same way everywhere:

- Who is asking is resolved first (:meth:`ObjectView.identify`, given by the face); a
  person it does not accept is sent to sign in.
- Objects come only from :meth:`get_queryset` (the face scopes it to the tenant); any
  other id is 404, never 403, so other tenants' objects cannot be told from missing ones.
- Writes go through the action only. The action checks the role and raises
  PermissionDenied, which becomes a 403 page with its message; its ValidationError goes
  onto the form's fields (``switchboard.views.errors``). A read-only person gets the same
  pages without write buttons (``may_write``), and their POSTs are refused by the action.
- A list answers the whole page, or for an htmx request only its table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from switchboard.views.errors import show_action_errors


class Identity(Protocol):
    """Who is asking: the person and the account they act in."""

    user: Any
    account: Any


@dataclass(frozen=True)
class Column:
    """One column of a list: the attribute shown, its heading, and whether it links to
    the object's page."""

    attribute: str
    label: str
    link: bool = False
    render: Callable[[models.Model], Any] | None = None

    def value(self, obj: models.Model) -> Any:
        if self.render is not None:
            return self.render(obj)
        value = getattr(obj, self.attribute)
        display = getattr(obj, f"get_{self.attribute}_display", None)
        return display() if callable(display) else value


class ObjectView(View):
    """What every generic page shares: the identity, the scoped queryset, the words."""

    model: ClassVar[type[models.Model]]
    # The object's name in the page's words ("extension", "ring group").
    verbose_name: ClassVar[str]
    verbose_name_plural: ClassVar[str]
    # URL names (namespaced) of the object's pages.
    list_url_name: ClassVar[str]
    create_url_name: ClassVar[str | None] = None
    edit_url_name: ClassVar[str | None] = None
    delete_url_name: ClassVar[str | None] = None
    refused_template: ClassVar[str] = "views/refused.html"
    # The face's page layout the generic templates extend.
    base_template: ClassVar[str] = "base.html"

    identity: Identity

    # --- what the face gives --------------------------------------------------------

    def identify(self, request: HttpRequest) -> Identity | None:
        """The person asking and their account, or None to send them to sign in."""
        raise NotImplementedError

    def sign_in_response(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    def authorize(self, identity: Identity) -> None:
        """Raise PermissionDenied when ``identity`` may not write (the actions' own check)."""
        raise NotImplementedError

    def get_queryset(self) -> models.QuerySet:
        return self.model._default_manager.all()

    # --- shared -----------------------------------------------------------------------

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        identity = self.identify(request)
        if identity is None:
            return self.sign_in_response(request)
        self.identity = identity
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as refusal:
            return render(request, self.refused_template,
                          self.context(reason=str(refusal) or "You may not do this."), status=403)

    @property
    def may_write(self) -> bool:
        try:
            self.authorize(self.identity)
        except PermissionDenied:
            return False
        return True

    def get_object(self, pk: Any) -> models.Model:
        return get_object_or_404(self.get_queryset(), pk=pk)

    def client_ip(self) -> str | None:
        return self.request.META.get("REMOTE_ADDR")

    def url(self, name: str | None, obj: models.Model | None = None) -> str | None:
        if name is None:
            return None
        return reverse(name, kwargs={"pk": obj.pk}) if obj is not None else reverse(name)

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "view": self,
            "may_write": self.may_write,
            "verbose_name": self.verbose_name,
            "verbose_name_plural": self.verbose_name_plural,
            "list_url": self.url(self.list_url_name),
            "create_url": self.url(self.create_url_name),
            **extra,
        }


class ObjectListView(ObjectView):
    """A list with the FilterSet's search and filters, paged; htmx asks for the table only."""

    filterset_class: ClassVar[type[django_filters.FilterSet] | None] = None
    # What the search box searches, in its placeholder.
    search_placeholder: ClassVar[str] = "Number or name"
    columns: ClassVar[Sequence[Column]]
    paginate_by: ClassVar[int] = 50
    template_name: ClassVar[str] = "views/object_list.html"
    table_template_name: ClassVar[str] = "views/_object_table.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
            queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = Paginator(queryset, self.paginate_by).get_page(request.GET.get("page"))
        rows = [(obj, self.url(self.edit_url_name, obj),
                 [(column, column.value(obj)) for column in self.columns])
                for obj in page.object_list]
        query = request.GET.copy()
        query.pop("page", None)
        context = self.context(filterset=filterset, page=page, rows=rows, columns=self.columns,
                               query=query.urlencode())
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.boosted:
            return render(request, self.table_template_name, context)
        return render(request, self.template_name, context)


class ObjectEditView(ObjectView):
    """Create (no ``pk``) or change one object through its actions. The form only checks
    the shape of the input; the action decides, and its errors land on the fields."""

    form_class: ClassVar[type[forms.Form]]
    template_name: ClassVar[str] = "views/object_edit.html"

    # --- the object's declarations --------------------------------------------------

    def create(self, form: forms.Form) -> models.Model:
        """Call the create action with the form's values."""
        raise NotImplementedError

    def update(self, obj: models.Model, form: forms.Form) -> models.Model:
        """Call the update action with the values the person changed."""
        raise NotImplementedError

    def initial(self, obj: models.Model) -> dict[str, Any]:
        return model_to_dict(obj, fields=list(self.form_class.base_fields))  # unknown names are skipped

    def extra_context(self, obj: models.Model | None) -> dict[str, Any]:
        """More for the template (an object's devices, its members)."""
        return {}

    def success_url(self, obj: models.Model) -> str:
        return self.url(self.edit_url_name, obj) or self.url(self.list_url_name)

    # --- shared -----------------------------------------------------------------------

    def changed_values(self, form: forms.Form) -> dict[str, Any]:
        return {name: form.cleaned_data[name] for name in form.changed_data}

    def build_form(self, obj: models.Model | None, data: Any = None) -> forms.Form:
        form = self.form_class(data, initial=self.initial(obj) if obj is not None else None)
        if not self.may_write:
            for field in form.fields.values():
                field.disabled = True
        return form

    def respond(self, obj: models.Model | None, form: forms.Form, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.context(
            object=obj, form=form, delete_url=self.url(self.delete_url_name, obj) if obj else None,
            **self.extra_context(obj)), status=status)

    def get(self, request: HttpRequest, pk: Any = None) -> HttpResponse:
        obj = self.get_object(pk) if pk is not None else None
        if obj is None:
            self.authorize(self.identity)  # nothing to see on an empty create form
        return self.respond(obj, self.build_form(obj))

    def post(self, request: HttpRequest, pk: Any = None) -> HttpResponse:
        obj = self.get_object(pk) if pk is not None else None
        # The action refuses too; checked first so a refused person sees the refusal,
        # not the form's complaints about their input.
        self.authorize(self.identity)
        form = self.build_form(obj, request.POST)
        if form.is_valid():
            try:
                saved = self.create(form) if obj is None else self.update(obj, form)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                return self.saved(saved, created=obj is None)
        return self.respond(obj, form, status=400)

    def saved(self, obj: models.Model, *, created: bool) -> HttpResponse:
        """The answer to a successful save: back to the object, saying so (an object whose
        creation returns something shown once answers with that instead)."""
        messages.success(self.request, f"{self.verbose_name.capitalize()} {obj} saved.")
        return redirect(self.success_url(obj))


class ObjectDeleteView(ObjectView):
    """A confirmation page; the POST calls the delete action, whose refusal (the object
    is still used, and by what) is shown as it words it."""

    template_name: ClassVar[str] = "views/object_delete.html"

    def delete(self, obj: models.Model) -> None:
        raise NotImplementedError

    def get(self, request: HttpRequest, pk: Any) -> HttpResponse:
        obj = self.get_object(pk)
        self.authorize(self.identity)
        return render(request, self.template_name, self.context(object=obj))

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        obj = self.get_object(pk)
        self.authorize(self.identity)
        try:
            self.delete(obj)
        except ValidationError as error:
            return render(request, self.template_name, self.context(object=obj, errors=error.messages),
                          status=409)
        messages.success(request, f"{self.verbose_name.capitalize()} {obj} deleted.")
        return redirect(self.url(self.list_url_name))
