import pytest

from health.models import Scorecard


@pytest.fixture
def no_scorecards(db):
    """Remove the default scorecard the migration installs, so each test builds exactly the card it needs."""
    Scorecard.objects.all().delete()
