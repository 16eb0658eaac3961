"""The set-based recompute: load scorecards, run each needed source once for all the accounts at once, then
score in Python. The number of queries depends on the sources used, never on the number of accounts."""

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass

from accounts.models import Account
from health.assignment import Assigner, segment_claims
from health.compiled import CompiledScorecard
from health.measures import MEASURES, run_sources, start_sources
from health.models import Scorecard
from health.scoring import MeasureSpec


@dataclass
class Result:
    """The computed health of one account as of a day; the breakdown is kept as the JSON text snapshots store
    (``breakdown`` decodes it)."""

    account_id: int
    scorecard: Scorecard
    score: float | None
    band: str
    breakdown_json: str

    @property
    def breakdown(self) -> dict:
        return json.loads(self.breakdown_json)


def load_scorecards() -> list[Scorecard]:
    """Every scorecard with its measures and the segments it claims, in three queries."""
    return list(Scorecard.objects.prefetch_related("measures", "segments"))


def _specs(card: Scorecard) -> list[MeasureSpec]:
    return [
        MeasureSpec(m.key, m.weight, tuple((float(x), float(y)) for x, y in m.breakpoints), m.interpolation)
        for m in card.measures.all()
        if m.key in MEASURES  # a measure whose provider app was removed is skipped, not fatal
    ]


# Compiled scorecards by everything compiling reads: compiling costs milliseconds, more than one account's scoring,
# so the event-driven recomputes of a process reuse them until the scorecard changes.
_COMPILED: dict[tuple, CompiledScorecard] = {}
_COMPILED_MAX = 64


def compile_scorecard(card: Scorecard) -> CompiledScorecard:
    """The scorecard's measures with their registry value functions, ready for scoring many accounts."""
    specs = _specs(card)
    fns = tuple(MEASURES[s.key].value for s in specs)
    key = (
        card.id,
        card.missing_policy,
        fns,
        tuple((s.key, type(s.weight), s.weight, s.breakpoints, s.interpolation) for s in specs),
    )
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()  # old versions of edited scorecards
        compiled = _COMPILED[key] = CompiledScorecard(card.id, specs, fns, card.missing_policy)
    return compiled


@dataclass
class Prepared:
    """The accounts to score with their scorecards and every source's rows, ready for ``iter_results``."""

    as_of: dt.date
    assigned: list[tuple[int, dt.datetime | None, Scorecard]]
    compiled: dict[int, CompiledScorecard]
    data: dict[str, dict]

    @property
    def account_ids(self) -> list[int]:
        return [a for a, _t, _c in self.assigned]


def prepare(
    *, as_of: dt.date, account_ids: list[int] | None = None, scorecard_id: int | None = None, parallel: bool = False
) -> Prepared | None:
    """Load scorecards and accounts and run the needed sources (the queries of a recompute). With ``scorecard_id``
    only the accounts that scorecard applies to are kept (history recompute of one scorecard). ``parallel`` runs
    the source queries on separate connections at once (only valid outside a transaction)."""
    scorecards = load_scorecards()
    compiled = {card.id: compile_scorecard(card) for card in scorecards}
    pending = None
    if parallel and account_ids is None and scorecard_id is None:
        # A full recompute: the sources start at once and the accounts are read and assigned meanwhile. They are
        # the sources of every scorecard (a scorecard no account gets only costs its queries, never a result).
        pending = start_sources(_needed(compiled[card.id] for card in scorecards), None, as_of)
    try:
        assigned = _assign(scorecards, account_ids, scorecard_id)
    except BaseException:
        if pending is not None:
            with suppress(Exception):
                pending()  # let the queries finish and their connections close before raising
        raise
    if pending is not None:
        data = pending()  # waited for even without accounts: no query outlives the call
        return Prepared(as_of, assigned, compiled, data) if assigned else None
    if not assigned:
        return None
    needed = _needed(compiled[card_id] for card_id in {c.id for _a, _t, c in assigned})
    # A handful of accounts: filter the sources by id; otherwise aggregate everything (cheaper than a huge IN).
    scope = [a for a, _t, _c in assigned] if account_ids is not None else None
    return Prepared(as_of, assigned, compiled, run_sources(needed, scope, as_of, parallel=parallel))


def _assign(
    scorecards: list[Scorecard], account_ids: list[int] | None, scorecard_id: int | None
) -> list[tuple[int, dt.datetime | None, Scorecard]]:
    """``(account_id, last_touchpoint_at, scorecard)`` of the accounts to score (two queries and one per segment)."""
    assigner = Assigner(scorecards, segment_claims(scorecards, account_ids))
    accounts = Account.objects.order_by()
    if account_ids is not None:
        accounts = accounts.filter(id__in=account_ids)
    assigned = []
    for account_id, tier, touched in accounts.values_list("id", "tier", "last_touchpoint_at"):
        card = assigner.scorecard_for(tier=tier, account_id=account_id)
        if card is not None and (scorecard_id is None or card.id == scorecard_id):
            assigned.append((account_id, touched, card))
    return assigned


def _needed(cards: Iterable[CompiledScorecard]) -> set[str]:
    """The sources the measures of these scorecards read (``account`` comes with the account list)."""
    return {src for card in cards for key in card.keys for src in MEASURES[key].sources if src != "account"}


def iter_scored(prepared: Prepared) -> Iterator[tuple[int, Scorecard, float | None, str, str]]:
    """Score every prepared account in Python (no queries), one at a time so writes can stream alongside:
    ``(account_id, scorecard, score, band, breakdown_json)``. The hot loop of a full recompute: one row dict is
    refilled per account (measures only read it) and each scorecard was compiled once (``compile_scorecard``)."""
    as_of, compiled = prepared.as_of, prepared.compiled
    sources = [(name, rows, rows.get(None)) for name, rows in prepared.data.items()]
    account: dict = {"last_touchpoint_at": None}
    row: dict = {"account": account, "as_of": as_of}
    for account_id, touched, card in prepared.assigned:
        for name, rows, default in sources:
            row[name] = rows.get(account_id, default)
        account["last_touchpoint_at"] = touched
        scorer = compiled[card.id]
        total, breakdown_json = scorer.score_json([fn(row) for fn in scorer.value_fns])
        yield account_id, card, total, card.band_for(total), breakdown_json


def iter_results(prepared: Prepared) -> Iterator[Result]:
    """``iter_scored`` as ``Result`` objects."""
    for scored in iter_scored(prepared):
        yield Result(*scored)


def compute(
    *, as_of: dt.date, account_ids: list[int] | None = None, scorecard_id: int | None = None, parallel: bool = False
) -> list[Result]:
    """Health of the given accounts (None = every account) as of the end of ``as_of`` (``prepare`` + scoring)."""
    prepared = prepare(as_of=as_of, account_ids=account_ids, scorecard_id=scorecard_id, parallel=parallel)
    return list(iter_results(prepared)) if prepared else []
