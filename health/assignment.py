"""Which scorecard scores which account: a scorecard's segments first (an account in a segment a scorecard
claims gets that scorecard; the first scorecard in list order wins when two claim it), then tiers, then the
one default scorecard. Resolved for many accounts at once: one query per claiming segment, never per account.
"""

from collections.abc import Iterable

from django.db.models import Q

from health.models import Scorecard
from segments.selectors import segment_account_ids_q, segment_accounts


def segment_claims(scorecards: list[Scorecard], account_ids: Iterable[int] | None = None) -> dict[int, Scorecard]:
    """Account id → the scorecard whose segment claims it (one query per segment). ``account_ids`` narrows the
    queries to the accounts being recomputed. Expects ``segments`` prefetched on the scorecards."""
    ids = list(account_ids) if account_ids is not None else None
    claims: dict[int, Scorecard] = {}
    for card in scorecards:
        for segment in card.segments.all():
            members = segment_accounts(segment).order_by()
            if ids is not None:
                members = members.filter(id__in=ids)
            for account_id in members.values_list("id", flat=True):
                claims.setdefault(account_id, card)
    return claims


class Assigner:
    """Resolves accounts to scorecards from already loaded scorecards and segment claims (no query per account)."""

    def __init__(self, scorecards: list[Scorecard], claims: dict[int, Scorecard] | None = None):
        self.claims = claims or {}
        self.default = next((s for s in scorecards if s.is_default), None)
        self.by_tier: dict[str, Scorecard] = {}
        for card in scorecards:
            for tier in card.tiers or []:
                self.by_tier.setdefault(tier, card)

    def scorecard_for(self, *, tier: str, account_id: int | None = None) -> Scorecard | None:
        claimed = self.claims.get(account_id) if account_id is not None else None
        return claimed or self.by_tier.get(tier, self.default)


def account_q(card: Scorecard, scorecards: list[Scorecard], prefix: str = "") -> Q:
    """A filter selecting the accounts ``card`` scores (same rules as ``Assigner``), for set-based deletes."""
    assigner = Assigner(scorecards)
    mine = [tier for tier, c in assigner.by_tier.items() if c.id == card.id]
    q = Q(**{f"{prefix}tier__in": mine}) if mine else Q(pk__in=[])
    if assigner.default is not None and assigner.default.id == card.id:
        q |= ~Q(**{f"{prefix}tier__in": list(assigner.by_tier)})
    # Segment claims come first: accounts claimed by an earlier scorecard are never this one's; this card's
    # own segments add theirs; tier rules only apply to accounts no segment claims.
    earlier, claimed_any = Q(pk__in=[]), Q(pk__in=[])
    own = Q(pk__in=[])
    seen_self = False
    for other in scorecards:
        for segment in other.segments.all():
            in_segment = Q(**segment_account_ids_q(segment, prefix=prefix))
            claimed_any |= in_segment
            if other.id == card.id:
                own |= in_segment
            elif not seen_self:
                earlier |= in_segment
        seen_self = seen_self or other.id == card.id
    return (own | (q & ~claimed_any)) & ~earlier
