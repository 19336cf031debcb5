"""Prompts and hold music: a name and a file. The form only takes the file; whether it is
audio we can convert, its size and the tenant's quota are the action's checks
(``pbx.actions.media``), shown on the file's field."""

from __future__ import annotations

from django import forms

from pbx.media import ACCEPTED, EXTENSIONS, MAX_FILE_BYTES, megabytes
from pbx.models import MohGroup, Prompt
from switchboard.views.forms import ActionForm

_ACCEPT = ",".join(EXTENSIONS)
_HELP = f"{ACCEPTED[0].upper()}{ACCEPTED[1:]}, at most {megabytes(MAX_FILE_BYTES)}."


class PromptUploadForm(ActionForm):
    upload = forms.FileField(label="Recording", help_text=_HELP,
                             widget=forms.ClearableFileInput(attrs={"accept": _ACCEPT}))

    class Meta:
        model = Prompt
        fields = ("name",)


class PromptForm(ActionForm):
    """A prompt's page changes its name; a new recording is a new prompt."""

    class Meta:
        model = Prompt
        fields = ("name",)


class MohGroupForm(ActionForm):
    class Meta:
        model = MohGroup
        fields = ("name", "shuffle")


class MohTrackForm(ActionForm):
    upload = forms.FileField(label="New track", help_text=_HELP,
                             widget=forms.ClearableFileInput(attrs={"accept": _ACCEPT}))
    name = forms.CharField(max_length=100, required=False, label="Its name",
                           help_text="Empty: the file's name.")

    def __init__(self, *args, **kwargs) -> None:
        # It shares the group's page, whose form has a "name" too: ids of its own, so
        # each label points at its own field (the field names, what is posted, stay).
        kwargs.setdefault("auto_id", "id_track_%s")
        super().__init__(*args, **kwargs)
