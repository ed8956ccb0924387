from django.db import migrations, models
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):
    Scheme = apps.get_model("buddyscheme", "Scheme")
    taken: set[str] = set()
    for scheme in Scheme.objects.order_by("pk"):
        base = slugify(scheme.name)[:34].strip("-") or "scheme"
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        taken.add(candidate)
        scheme.slug = candidate
        scheme.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("buddyscheme", "0013_person_record")]

    operations = [
        migrations.AddField(
            model_name="scheme",
            name="slug",
            # No index yet: the unique constraint below brings its own (on PostgreSQL a
            # db_index here and then unique=True would create the "_like" index twice).
            field=models.SlugField(blank=True, max_length=40, default="", db_index=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="scheme",
            name="slug",
            field=models.SlugField(
                blank=True,
                help_text="Short address of the scheme's public pages, e.g. 'north-buddies'. "
                "Letters, numbers and hyphens; avoid words that say what people live with.",
                max_length=40,
                unique=True,
            ),
        ),
    ]
