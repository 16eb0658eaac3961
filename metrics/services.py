"""Writes of the metrics app (the admin-entered sales & marketing expense behind CAC)."""

from typing import Any

from django.db import transaction

from csp.models import User
from metrics.models import AcquisitionCost


@transaction.atomic
def acquisition_cost_save(
    *, data: dict[str, Any], user: User, instance: AcquisitionCost | None = None
) -> AcquisitionCost:
    """Create or change one month's sales & marketing expense, remembering who entered it."""
    cost = instance or AcquisitionCost()
    for field in ("month", "sales_marketing_expense", "note"):
        if field in data:
            setattr(cost, field, data[field])
    if cost.month is not None:
        cost.month = cost.month.replace(day=1)
    cost.entered_by = user
    cost.full_clean()
    cost.save()
    return cost
