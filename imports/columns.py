"""CSV columns per import kind, their aliases (as CRM exports name them) and cell parsing.

Headers match case-insensitively, ignoring spaces, dashes, underscores and dots ("Account ID", "account_id"
and "account-id" are the same). The first column matching a field wins; unmatched columns are ignored and
listed in the dry run. docs/import-export.md documents every column.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from accounts.models import (
    AccountStatus,
    BillingPeriod,
    ContactRole,
    ContractStatus,
    EngagementModel,
    LifecycleStage,
    Tier,
)


class CellError(ValueError):
    """A cell that cannot be read; the message is shown as the row's reject reason."""


def normalise(header: str) -> str:
    return re.sub(r"[\s_\-.]+", " ", header.strip().lower()).strip()


# field -> aliases; the field's own name is always an alias.
ACCOUNT_COLUMNS = {
    "external_id": ["account external id", "account id", "crm id", "salesforce id", "hubspot id", "record id",
                    "company id", "id"],
    "name": ["account name", "company", "company name", "organization", "organisation"],
    "domain": ["website", "company domain name", "domain name", "url"],
    "tier": ["segment", "customer tier", "account tier"],
    "industry": ["vertical", "sector"],
    "employee_count": ["employees", "number of employees", "headcount", "employee count"],
    "region": ["territory", "geo", "sales region"],
    "lifecycle_stage": ["stage", "lifecycle", "customer stage"],
    "engagement_model": ["touch model", "engagement", "coverage model"],
    "owner_email": ["owner", "account owner", "account owner email", "csm", "csm email", "owner email"],
    "status": ["account status"],
    "parent_external_id": ["parent id", "parent account id", "parent external id", "parent account external id"],
}  # fmt: skip
CONTACT_COLUMNS = {
    "account_external_id": ["account external id", "account id", "company id", "account"],
    "external_id": ["contact id", "user id", "contact external id", "id"],
    "name": ["full name", "contact name"],
    "first_name": ["first name", "firstname", "given name"],
    "last_name": ["last name", "lastname", "surname", "family name"],
    "email": ["email address", "e mail", "work email"],
    "phone": ["phone number", "mobile", "telephone"],
    "title": ["job title", "position"],
    "role": ["contact role", "persona"],
    "is_primary": ["primary", "primary contact", "is primary"],
}  # fmt: skip
CONTRACT_COLUMNS = {
    "external_id": ["contract id", "contract external id", "subscription id", "opportunity id", "id"],
    "account_external_id": ["account external id", "account id", "company id", "account"],
    "name": ["contract name", "subscription name", "opportunity name"],
    "start_date": ["contract start date", "start", "term start", "subscription start date"],
    "end_date": ["contract end date", "end", "term end", "subscription end date"],
    "recurring_amount": ["amount", "recurring revenue", "subscription amount", "annual amount"],
    "billing_period": ["billing frequency", "billing period", "billing cycle"],
    "one_time_fees": ["one time fees", "setup fee", "implementation fee", "one time fee"],
    "seats": ["licenses", "licences", "quantity", "users"],
    "auto_renew": ["auto renewal", "auto renews", "autorenew"],
    "status": ["contract status"],
}  # fmt: skip
COLUMNS = {"accounts": ACCOUNT_COLUMNS, "contacts": CONTACT_COLUMNS, "contracts": CONTRACT_COLUMNS}
REQUIRED = {"accounts": ["external_id"], "contacts": ["account_external_id"], "contracts": ["external_id",
            "account_external_id"]}  # fmt: skip


def match_headers(kind: str, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map fields to column positions; returns (field -> index, ignored headers)."""
    lookup: dict[str, str] = {}
    for field, aliases in COLUMNS[kind].items():
        for alias in [field, *aliases]:
            lookup.setdefault(normalise(alias), field)
    found: dict[str, int] = {}
    ignored = []
    for i, header in enumerate(headers):
        field = lookup.get(normalise(header))
        if field and field not in found:
            found[field] = i
        else:
            ignored.append(header)
    return found, ignored


def _choice(choices) -> dict[str, str]:
    table = {}
    for value, label in choices:
        for key in (value, label, value.replace("_", " ")):
            table[normalise(key)] = value
    return table


CHOICES = {
    "tier": _choice(Tier.choices) | {"mid market": Tier.MID_MARKET, "mm": Tier.MID_MARKET, "ent": Tier.ENTERPRISE},
    "lifecycle_stage": _choice(LifecycleStage.choices),
    "engagement_model": _choice(EngagementModel.choices) | {"high": "high_touch", "low": "low_touch",
                                                            "tech": "tech_touch"},
    "account_status": _choice(AccountStatus.choices),
    "role": _choice(ContactRole.choices) | {"poc": ContactRole.POINT_OF_CONTACT, "dm": ContactRole.DECISION_MAKER},
    "billing_period": _choice(BillingPeriod.choices) | {"monthly": "month", "annual": "year", "annually": "year",
                                                        "yearly": "year", "mo": "month", "yr": "year"},
    "contract_status": _choice(ContractStatus.choices),
}  # fmt: skip
TRUE = {"1", "true", "yes", "y", "t", "x"}
FALSE = {"0", "false", "no", "n", "f", ""}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]


def parse_choice(table: str, field: str, value: str) -> str:
    found = CHOICES[table].get(value.lower())  # the common case ("smb", "Enterprise") without a regex
    if found is not None:
        return found
    try:
        return CHOICES[table][normalise(value)]
    except KeyError:
        allowed = ", ".join(sorted(set(CHOICES[table].values())))
        raise CellError(f"{field}: {value!r} is not one of {allowed}") from None


def parse_bool(field: str, value: str) -> bool:
    low = value.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise CellError(f"{field}: {value!r} is not yes/no")


def parse_date(field: str, value: str) -> dt.date:
    value = value.strip()
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        # YYYY-MM-DD, by far the most common: fromisoformat is 20x faster than strptime.
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass  # e.g. 2025-02-30: strptime below refuses it with the usual message
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise CellError(f"{field}: {value!r} is not a date (use YYYY-MM-DD)")


def parse_decimal(field: str, value: str) -> Decimal:
    cleaned = re.sub(r"[\s,$€£]", "", value)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(f"{field}: {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise CellError(f"{field}: {value!r} must be zero or more")
    return number.quantize(Decimal("0.01"))


def parse_int(field: str, value: str) -> int:
    cleaned = value if value.isascii() and value.isdigit() else re.sub(r"[\s,]", "", value)
    if not cleaned.isdigit():
        raise CellError(f"{field}: {value!r} is not a whole number")
    number = int(cleaned)
    if number > 2_147_483_647:
        raise CellError(f"{field}: {value!r} is too large")
    return number
