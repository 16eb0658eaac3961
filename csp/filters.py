"""Filter fields shared by the API's filter sets, hardened against input the database cannot take."""

import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

# Real-world offsets run from -12:00 to +14:00; PostgreSQL refuses displacements past about 16 hours (500).
MAX_OFFSET = dt.timedelta(hours=14)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time whose offset is a real one and whose UTC value is a representable date-time."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            raise forms.ValidationError("The time zone offset must be between -14:00 and +14:00.", code="invalid")
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as exc:  # year 1 with a positive offset, year 9999 with a negative one
            raise forms.ValidationError("The date-time is out of range.", code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``django_filters.IsoDateTimeFilter`` that answers 400 (not 500) for offsets like -19:44 or overflow."""

    field_class = BoundedIsoDateTimeField
