"""The account's phone numbers: where each one's calls go, and its caller-ID name and
privacy screening. Numbers are rows of the public schema, so the queryset names the
account (another tenant's number is 404 like a missing one); the provider assigns and
takes back numbers, so there is no create or delete here."""

from __future__ import annotations

from django import forms
from django.db import models, transaction

from pbx.destinations import describe
from pbx.filtersets import PhoneNumberFilterSet
from pbx.numbers import do_route_number, do_set_number_options
from pbx.portal.forms.numbers import PhoneNumberForm
from pbx.portal.views.base import PortalEditView, PortalListView
from switchboard.views import Column
from tenants.models import PhoneNumber


class _NumberPages:
    model = PhoneNumber
    verbose_name = "phone number"
    verbose_name_plural = "phone numbers"
    list_url_name = "portal:number-list"
    edit_url_name = "portal:number-edit"

    def get_queryset(self: PortalListView) -> models.QuerySet:
        return PhoneNumber.objects.filter(account=self.identity.account).order_by("e164")


class PhoneNumberListView(_NumberPages, PortalListView):
    filterset_class = PhoneNumberFilterSet
    columns = (
        Column("e164", "Number", link=True),
        Column("route", "Calls go to", render=lambda number: describe(number.route)),
        Column("caller_id_name", "Caller ID name"),
        Column("privacy_screening", "Screening",
               render=lambda number: "On" if number.privacy_screening else "—"),
    )


class PhoneNumberEditView(_NumberPages, PortalEditView):
    form_class = PhoneNumberForm

    def update(self, obj: PhoneNumber, form: forms.Form) -> PhoneNumber:
        changed = self.changed_values(form)
        account = self.identity.account
        # One change as a whole: the route and the options, or neither.
        with transaction.atomic():
            if "route" in changed:
                obj = do_route_number(account, obj, route=changed.pop("route"), **self.writer)
            if changed:
                obj = do_set_number_options(account, obj, **self.writer, **changed)
        return obj
