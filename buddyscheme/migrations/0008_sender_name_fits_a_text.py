"""The sender name begins every text message, which must fit one SMS: at most 15 characters.

A longer name is cut (at a space when there is one) before the column shrinks; coordinators
see the shorter name in the admin and can choose a better one.
"""

from django.db import migrations, models

import buddyscheme.sms

LENGTH = 15


def shorten_sender_names(apps, schema_editor):
    Scheme = apps.get_model("buddyscheme", "Scheme")
    for scheme in Scheme.objects.all():
        name = scheme.sender_name.strip()
        if len(name) > LENGTH:
            cut = name[: LENGTH + 1].rsplit(" ", 1)[0] if " " in name[: LENGTH + 1] else name
            scheme.sender_name = cut[:LENGTH].strip()
            scheme.save(update_fields=["sender_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("buddyscheme", "0007_auditevent"),
    ]

    operations = [
        migrations.RunPython(shorten_sender_names, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="scheme",
            name="sender_name",
            field=models.CharField(
                help_text="Neutral name shown on emails and texts, e.g. 'Appointments' (at most "
                "15 plain characters). Never the condition or the charity's full name unless "
                "the scheme opts in.",
                max_length=LENGTH,
                validators=[buddyscheme.sms.validate_gsm7],
            ),
        ),
    ]
