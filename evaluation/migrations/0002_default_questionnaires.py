"""The shipped questionnaires (ONS4, exit feedback, the buddy's) for schemes that existed before
questionnaires did; a scheme made later gets them when it is created."""

from django.db import migrations
from django.utils import timezone


def add_defaults(apps, schema_editor):
    from evaluation.questionnaire_defaults import DEFAULTS

    Scheme = apps.get_model("buddyscheme", "Scheme")
    Questionnaire = apps.get_model("evaluation", "Questionnaire")
    Version = apps.get_model("evaluation", "QuestionnaireVersion")
    Question = apps.get_model("evaluation", "Question")
    now = timezone.now()
    for scheme in Scheme.objects.all():
        for key, spec in DEFAULTS.items():
            if Questionnaire.objects.filter(scheme=scheme, key=key).exists():
                continue
            questionnaire = Questionnaire.objects.create(
                scheme=scheme,
                key=key,
                name=spec["name"],
                purpose=spec["purpose"],
                audience=spec["audience"],
                send_at=spec["send_at"],
                created_at=now,
            )
            version = Version.objects.create(
                questionnaire=questionnaire, number=1, published_at=now, created_at=now
            )
            Question.objects.bulk_create(
                Question(version=version, position=position, **question)
                for position, question in enumerate(spec["questions"], start=1)
            )


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_questionnaires")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
