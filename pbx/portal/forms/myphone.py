"""The forms of "My phone", an employee's pages for their own extension. They only
check the shape of what is typed; the actions decide (the same as the admin's and the
feature codes'), and their errors land on these fields."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from pbx.models import BlockDirection, Extension

_WHEN = {"all": "Forward all calls", "busy": "Forward when I am busy",
         "no_answer": "Forward when I do not answer",
         "unregistered": "Forward when no phone of mine is connected"}
NUMBER_HELP = "An extension number, or an outside number (as you would dial it, or +country code)."


class ForwardingForm(forms.Form):
    """Do not disturb and the four forwards, each a switch and a number (the number a
    feature code would take after *71 / *72 / *73)."""

    do_not_disturb = forms.BooleanField(
        required=False, label="Do not disturb",
        help_text="Callers go to your voicemail, or to your busy forward when it is on.")

    def __init__(self, *args, current: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = current or {}
        for name in Extension.FORWARDS:
            self.fields[f"forward_{name}"] = forms.BooleanField(required=False, label=_WHEN[name])
            now = current.get(name, "")
            self.fields[f"forward_{name}_to"] = forms.CharField(
                required=False, max_length=24, label="To number",
                help_text=f"Now: {now}. {NUMBER_HELP}" if now else NUMBER_HELP,
                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))

    def pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"forward_{name}"], self[f"forward_{name}_to"]) for name in Extension.FORWARDS]


class FollowMeForm(forms.Form):
    """Follow-me as steps of numbers rung together, then voicemail."""

    STEPS = 5

    enabled = forms.BooleanField(required=False, label="Follow-me on",
                                 help_text="Your calls ring the steps below in order, then go to voicemail.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for position in range(1, self.STEPS + 1):
            self.fields[f"step_{position}_targets"] = forms.CharField(
                required=False, max_length=200, label=f"Step {position}: ring",
                help_text="Numbers rung together, separated by commas (your extension number rings "
                          "your own phones)." if position == 1 else "",
                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
            self.fields[f"step_{position}_seconds"] = forms.IntegerField(
                required=False, min_value=5, max_value=300, initial=20, label=f"Step {position}: seconds")

    def steps(self) -> list[tuple[int, list[str], int]]:
        """(position, numbers, seconds) of each filled-in step, in order."""
        found = []
        for position in range(1, self.STEPS + 1):
            numbers = [n.strip() for n in self.cleaned_data.get(f"step_{position}_targets", "").split(",")
                       if n.strip()]
            if numbers:
                found.append((position, numbers, self.cleaned_data.get(f"step_{position}_seconds") or 20))
        return found

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"step_{n}_targets"], self[f"step_{n}_seconds"]) for n in range(1, self.STEPS + 1)]


class PinForm(forms.Form):
    pin = forms.CharField(
        label="New voicemail PIN", min_length=4, max_length=10,
        help_text="4 to 10 digits; not your extension number, one digit repeated, or a run like 1234.",
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}))


class BlockForm(forms.Form):
    """One block of the employee's own line: a number, a prefix, or callers who hide
    their number (the call-block actions read and check the number)."""

    pattern = forms.CharField(
        required=False, max_length=24, label="Number or prefix",
        help_text="A number as you would dial it or with +country code, or the start of numbers "
                  "followed by * (+1900* blocks every number starting +1 900).",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    anonymous = forms.BooleanField(required=False, label="Callers who hide their number",
                                   help_text="Instead of a number: every caller without one.")
    direction = forms.ChoiceField(label="Block", initial=BlockDirection.INCOMING, choices=[
        (BlockDirection.INCOMING, "Calls from it to me"), (BlockDirection.OUTGOING, "My calls to it"),
        (BlockDirection.BOTH, "Both")])
    comment = forms.CharField(required=False, max_length=200, label="Note (optional)")


class GreetingForm(forms.Form):
    which = forms.ChoiceField(label="Greeting", choices=[
        ("greeting_unavailable", "When I do not answer"), ("greeting_busy", "When I am busy"),
        ("greeting_name", "My name")])
    upload = forms.FileField(
        label="Recording", required=False,
        help_text="A WAV, MP3, OGG or FLAC file of at most 10 MB; it plays once converted (a few seconds).",
        widget=forms.ClearableFileInput(attrs={"accept": ".wav,.mp3,.ogg,.opus,.flac,audio/*"}))


class WelcomePasswordForm(SetPasswordForm):
    """Django's set-password form (its validators: length, common passwords, ...)."""
