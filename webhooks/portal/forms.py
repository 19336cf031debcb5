from __future__ import annotations

from django import forms

from webhooks.models import Event, Webhook


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple,
                                       help_text="What this URL is told of.")

    class Meta:
        model = Webhook
        fields = ("url", "description", "events", "enabled")
        labels = {"url": "URL"}
        help_texts = {"url": "Where events are POSTed as JSON (http or https; not a private or loopback "
                             "address). Verify each request's X-Switchboard-Signature with the secret."}
