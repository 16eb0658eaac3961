import factory

from events.models import EventSource, KeyFeature
from events.services import hash_key


class EventSourceFactory(factory.django.DjangoModelFactory):
    """A source whose write key is ``key-<name>`` (the factory knows it; the database has only its hash)."""

    class Meta:
        model = EventSource

    name = factory.Sequence(lambda n: f"Source {n}")
    key_prefix = factory.LazyAttribute(lambda o: f"key-{o.name}"[:10])
    key_hash = factory.LazyAttribute(lambda o: hash_key(f"key-{o.name}"))


class KeyFeatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyFeature

    name = factory.Sequence(lambda n: f"Feature {n}")
    event_name = factory.Sequence(lambda n: f"Feature Used {n}")
