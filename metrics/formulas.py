"""The glossary's formulas (/work/shared/seeds glossary, cited in docs/metrics.md) as pure Decimal functions.

Inputs are exact Decimals (sums of stored amounts); a division by zero gives ``None`` (shown as "-"), never
0 or an error. Percentages are rounded to 2 decimals at the end, money to cents.
"""

from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal("100")
CENT = Decimal("0.01")

Number = Decimal | int


def ratio(numerator: Number | None, denominator: Number | None) -> Decimal | None:
    """numerator ÷ denominator, exact; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or Decimal(denominator) == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def pct(numerator: Number | None, denominator: Number | None) -> Decimal | None:
    """(numerator ÷ denominator) x 100, rounded to 2 decimals; None on a zero denominator."""
    value = ratio(numerator, denominator)
    return None if value is None else (value * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Number | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def nrr_pct(mrr_start: Decimal, expansion: Decimal, churn: Decimal, contraction: Decimal) -> Decimal | None:
    """NRR = ((MRR at start of month + expansions + upsells - churn - contractions) ÷ MRR at start) x 100."""
    return pct(mrr_start + expansion - churn - contraction, mrr_start)


def grr_pct(mrr_start: Decimal, churn: Decimal, contraction: Decimal) -> Decimal | None:
    """Gross Revenue Retention = ((MRR at start of month - churn - contractions) ÷ MRR at start) x 100."""
    return pct(mrr_start - churn - contraction, mrr_start)


def gross_mrr_churn_pct(churn: Decimal, mrr_start: Decimal) -> Decimal | None:
    """Gross MRR Churn Rate = (MRR churn ÷ total MRR for the month) x 100 (total MRR: at the period's start)."""
    return pct(churn, mrr_start)


def net_mrr_churn_pct(churn: Decimal, expansion: Decimal, mrr_start: Decimal) -> Decimal | None:
    """Net MRR Churn Rate = (($ MRR churn - $ expansion MRR) ÷ $ total MRR at the start of the month) x 100."""
    return pct(churn - expansion, mrr_start)


def dollar_churn_pct(mrr_start: Decimal, mrr_end: Decimal, upgrades: Decimal) -> Decimal | None:
    """Dollar Churn Rate = (((MRR beginning of month - MRR end of month) - MRR in upgrades) ÷ MRR beginning) x 100."""
    return pct((mrr_start - mrr_end) - upgrades, mrr_start)


def logo_churn_pct(lost: int, customers_start: int) -> Decimal | None:
    """Logo Churn = (# of logos lost during the period ÷ # of logos at the start of the period) x 100."""
    return pct(lost, customers_start)


def cgr_pct(customers_end: int, customers_start: int) -> Decimal | None:
    """CGR = (this period's # of customers - last period's # of customers) ÷ last period's # (x 100 as a %)."""
    return pct(customers_end - customers_start, customers_start)


def arpu(revenue: Decimal, customers: int) -> Decimal | None:
    """ARPU = total (monthly) revenue ÷ total number of customers."""
    return money(ratio(revenue, customers))


def growth_rate_pct(current: Decimal | None, past: Decimal | None) -> Decimal | None:
    """GR = ((current period revenue - past period revenue) ÷ past period revenue) x 100."""
    if current is None or past is None:
        return None
    return pct(current - past, past)


def change_pct(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """MoM / QoQ / YoY Change = ((metric ÷ same metric in the previous month/quarter/year) - 1) x 100."""
    value = ratio(current, previous)
    return None if value is None else ((value - 1) * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def annual_run_rate(revenue_in_period: Decimal, periods_per_year: Decimal) -> Decimal:
    """Annual Run Rate = revenue in period x # of periods in one year (includes one-time fees)."""
    return money(revenue_in_period * periods_per_year)


def ltv(revenue: Decimal, customers: int, lost: int, customers_start: int) -> Decimal | None:
    """LTV = ARPU ÷ logo churn rate (issue 11; the glossary's revenue x relationship duration with the expected
    duration 1 ÷ churn rate), both exact (ARPU = revenue ÷ customers, churn = lost ÷ customers at start)."""
    churn_rate = ratio(lost, customers_start)
    return money(ratio(ratio(revenue, customers), churn_rate or None))


def cac(sales_marketing_expense: Decimal | None, new_customers: int) -> Decimal | None:
    """CAC = sales & marketing expenses ÷ # of new customers acquired."""
    return money(ratio(sales_marketing_expense, new_customers))


def ltv_cac(ltv_value: Decimal | None, cac_value: Decimal | None) -> Decimal | None:
    """LTV:CAC Ratio = LTV ÷ CAC (2 decimals)."""
    value = ratio(ltv_value, cac_value)
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def acv(tcv_recurring: Decimal, years: Decimal) -> Decimal | None:
    """ACV = Total Contract Value (excluding one-time fees) ÷ total years in contract."""
    return money(ratio(tcv_recurring, years))


def win_loss_ratio(won: int, lost: int) -> Decimal | None:
    """Win/Loss Ratio = # of opportunities won ÷ # of opportunities lost (2 decimals)."""
    value = ratio(won, lost)
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def stickiness_pct(dau: Decimal | None, mau: Decimal | None) -> Decimal | None:
    """Stickiness = Daily Active Users ÷ Monthly Active Users (as a %)."""
    return pct(dau, mau)


def adoption_rate_pct(new_users: int, total_users: int) -> Decimal | None:
    """AR = (# of new users ÷ total # of users) x 100."""
    return pct(new_users, total_users)


def pes(adoption: Decimal | None, stickiness: Decimal | None, growth: Decimal | None) -> Decimal | None:
    """PES = (Adoption Rate + Stickiness Rate + Growth Rate) ÷ 3; None when any part is unknown."""
    if adoption is None or stickiness is None or growth is None:
        return None
    return ((adoption + stickiness + growth) / 3).quantize(CENT, rounding=ROUND_HALF_UP)


def resolution_rate_pct(solved: int, received: int) -> Decimal | None:
    """RR = (# of solved/closed tickets ÷ # of tickets received) x 100."""
    return pct(solved, received)
