"""Which scorecard scores which account. Today by tier, with one default scorecard catching the rest.

Extension point for segments: once segments exist, ``scorecard_for`` asks them first (an account in a
segment a scorecard claims gets that scorecard), then falls back to tiers and the default, so the rest of
the recompute does not change.
"""

from django.db.models import Q

from health.models import Scorecard


class Assigner:
    """Resolves accounts to scorecards from an already loaded list of scorecards (no query per account)."""

    def __init__(self, scorecards: list[Scorecard]):
        self.default = next((s for s in scorecards if s.is_default), None)
        self.by_tier: dict[str, Scorecard] = {}
        for card in scorecards:
            for tier in card.tiers or []:
                self.by_tier.setdefault(tier, card)

    def scorecard_for(self, *, tier: str) -> Scorecard | None:
        return self.by_tier.get(tier, self.default)


def account_q(card: Scorecard, scorecards: list[Scorecard], prefix: str = "") -> Q:
    """A filter selecting the accounts ``card`` scores (same rules as ``Assigner``), for set-based deletes."""
    assigner = Assigner(scorecards)
    mine = [tier for tier, c in assigner.by_tier.items() if c.id == card.id]
    q = Q(**{f"{prefix}tier__in": mine}) if mine else Q(pk__in=[])
    if assigner.default is not None and assigner.default.id == card.id:
        q |= ~Q(**{f"{prefix}tier__in": list(assigner.by_tier)})
    return q
