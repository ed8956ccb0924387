from django.db import models


class TagListField(models.CharField):
    """A short list of lower-case tags stored as "a,b,c".

    Matching reads thousands of these per request; splitting a string is several times
    cheaper than decoding JSON, and tags never contain commas (the forms split on them).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return value.split(",") if value else []

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return value.split(",") if value else []

    def get_prep_value(self, value):
        if isinstance(value, list | tuple | set | frozenset):
            return ",".join(str(tag).replace(",", " ").strip() for tag in value if str(tag).strip())
        return value or ""

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))
