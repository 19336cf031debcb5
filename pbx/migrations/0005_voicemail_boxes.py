"""The voicemail PIN moves from the extension to its box (pbx.VoicemailBox): every
extension with voicemail on gets a box if it has none, and a box takes the PIN its
extension had, which is the one FreeSWITCH was given until now."""

import secrets

from django.db import migrations


def _new_pin(avoid: str) -> str:
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(6))
        if pin != avoid and len(set(pin)) > 1:
            return pin


def pins_to_boxes(apps, schema_editor):
    Extension = apps.get_model("pbx", "Extension")
    VoicemailBox = apps.get_model("pbx", "VoicemailBox")
    # Inserting boxes leaves deferred foreign-key checks pending; the column drop that
    # follows in this transaction must not find them.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for extension in Extension.objects.order_by("pk"):
        box = VoicemailBox.objects.filter(extension=extension).first()
        if box is None and extension.voicemail_enabled:
            box = VoicemailBox.objects.filter(number=extension.number, extension__isnull=True).first()
            if box is not None:
                box.extension = extension
            elif VoicemailBox.objects.filter(number=extension.number).exists():
                continue  # the number is another extension's box: leave both as they are
            else:
                box = VoicemailBox(number=extension.number, name=extension.name, extension=extension,
                                   pin=extension.voicemail_pin or _new_pin(extension.number))
        if box is None:
            continue
        # Until now FreeSWITCH was served the extension's PIN, which later edits changed
        # without touching the box: the extension's is the one its owner knows.
        if extension.voicemail_pin:
            box.pin = extension.voicemail_pin
        box.save()


def pins_to_extensions(apps, schema_editor):
    Extension = apps.get_model("pbx", "Extension")
    VoicemailBox = apps.get_model("pbx", "VoicemailBox")
    for box in VoicemailBox.objects.filter(extension__isnull=False):
        Extension.objects.filter(pk=box.extension_id).update(voicemail_pin=box.pin)


class Migration(migrations.Migration):

    dependencies = [
        ("pbx", "0004_routing_model"),
    ]

    operations = [
        migrations.RunPython(pins_to_boxes, pins_to_extensions),
        migrations.RemoveField(
            model_name="extension",
            name="voicemail_pin",
        ),
    ]
