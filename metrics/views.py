"""The dashboards: team, portfolio, renewal forecast, cohorts, health backtest, and the account drill-down behind
every number. Each page reads validated filters (``metrics.scope``: 400 on bad values, 403 outside the user's
scope), answers htmx filter changes with its body only, and exports each of its tables as CSV (``?csv=<table>``).
"""

import csv
from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Account
from accounts.policies import can_edit_account
from csp.dbrouting import reads_from_replica
from csp.models import Role
from health.models import Band
from metrics import charts, dashboards, scope
from metrics.backtest import backtest, renewal_events
from metrics.cohorts import average_curve, cohort_triangle
from metrics.forecast import renewal_forecast
from metrics.selectors import MOVEMENTS, movement_account_ids, per_account_arr
from playbooks.models import CTA
from playbooks.selectors import cta_active_q
from segments.models import Segment

COMPANY_ROLES = (Role.ADMIN, Role.MANAGER, Role.VIEWER)
DRILL_PAGE = 100


def _dashboard(*roles: str, company: bool = False) -> Callable:
    """Role check, filter parsing (400 page on bad values; PermissionDenied -> 403) for a dashboard view."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @reads_from_replica  # dashboards and their CSVs read a replica when one is configured
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if roles and request.user.role not in roles:
                raise PermissionDenied("Your role does not allow this dashboard.")
            try:
                flt = scope.parse_filters(request.user, request.GET)
            except ValidationError as exc:
                return render(request, "metrics/bad_filters.html", {"errors": exc.message_dict}, status=400)
            if company:
                flt.whole_company = True
            return view(request, flt, *args, **kwargs)

        return wrapper

    return decorator


def _csv(filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return response


def _render(request, template: str, flt: scope.DashboardFilters, context: dict, *, period: bool = True) -> HttpResponse:
    """Render a dashboard page, or only its body for htmx filter changes. ``period``: whether the period filter
    applies (the forecast looks ahead from today, cohorts and the backtest read their own windows)."""
    context.update(
        {
            "flt": flt,
            "qs": flt.querystring(),
            "periods": scope.PERIODS,
            "teams": scope.team_choices(request.user),
            "csms": scope.csm_choices(request.user),
            "segments": Segment.objects.order_by("name"),
            "tiers": Account._meta.get_field("tier").choices,
            "body_template": template.replace(".html", "_body.html"),
            "hide_period": not period,
        }
    )
    if request.headers.get("HX-Request"):
        return render(request, context["body_template"], context)
    return render(request, template, context)


@login_required
def index(request):
    """Dashboards land on the team view for CSMs and managers, the portfolio for admins and viewers."""
    if request.user.role in (Role.ADMIN, Role.VIEWER):
        return redirect("metrics:portfolio")
    return redirect("metrics:team")


# figure key, label, glossary key, drill-down figure, format
SUMMARY_ROWS = [
    ("mrr_start", "MRR at start", "mrr", "start", "money"),
    ("new_mrr", "New MRR", "mrr", "new", "money"),
    ("reactivation_mrr", "of which reactivation", "mrr", "reactivation", "money"),
    ("expansion_mrr", "Expansion MRR", "expansion", "expansion", "money"),
    ("contraction_mrr", "Contraction MRR", "contraction", "contraction", "money"),
    ("churned_mrr", "Churned MRR", "churn", "churned", "money"),
    ("mrr_end", "MRR at end", "mrr", "end", "money"),
    ("arr_end", "ARR at end", "arr", "end", "money"),
    ("nrr_pct", "NRR", "nrr", "start", "pct"),
    ("grr_pct", "GRR", "grr", "start", "pct"),
    ("gross_mrr_churn_pct", "Gross MRR churn", "gross_mrr_churn", "churned", "pct"),
    ("customers_start", "Customers at start", "churn_rate", "start", "int"),
    ("customers_end", "Customers at end", "churn_rate", "end", "int"),
    ("logos_churned", "Logos churned", "logo_churn", "churned", "int"),
    ("logo_churn_pct", "Logo churn", "logo_churn", "churned", "pct"),
    ("arpu", "ARPU (monthly)", "arpu", "end", "money"),
]


def _summary_rows(summary: dict) -> list[dict]:
    return [
        {"key": key, "label": label, "cite": cite, "drill": drill, "fmt": fmt, "value": summary.get(key)}
        for key, label, cite, drill, fmt in SUMMARY_ROWS
    ]


def _trend_chart(rows: list[dict]) -> dict:
    labels = [r["label"] for r in rows]
    return charts.line_chart(
        labels,
        [
            ("NRR %", [r["nrr_pct"] for r in rows], charts.COLORS["blue"]),
            ("GRR %", [r["grr_pct"] for r in rows], charts.COLORS["green"]),
            ("Logo churn %", [r["logo_churn_pct"] for r in rows], charts.COLORS["red"]),
        ],
    )


def _health_chart(rows: list[dict]) -> dict:
    labels = [str(r["owner"]) for r in rows]
    return charts.stacked_bar_chart(
        labels,
        [(Band(b).label, [r["health"][b] for r in rows], charts.COLORS[b]) for b in dashboards.BANDS],
        horizontal=True,
    )


@_dashboard()
def team(request, flt: scope.DashboardFilters):
    """Team dashboard: the period's MRR bridge, 12-month retention trend, per-CSM capacity, health and overdue CTAs,
    renewals by quarter."""
    data = dashboards.team_dashboard(flt)
    table = request.GET.get("csv")
    if table == "summary":
        return _csv(
            "team-summary", ["figure", "value"], [(r["label"], r["value"]) for r in _summary_rows(data["summary"])]
        )
    if table == "trend":
        return _csv(
            "team-trend",
            ["month", "nrr_pct", "grr_pct", "logo_churn_pct", "mrr_end"],
            [(r["label"], r["nrr_pct"], r["grr_pct"], r["logo_churn_pct"], r["mrr_end"]) for r in data["trend"]],
        )
    if table == "csms":
        return _csv(
            "team-csms",
            ["csm", "accounts", "arr", "green", "yellow", "red", "unscored", "overdue_ctas"],
            [
                (str(r["owner"]), r["accounts"], r["arr"], *[r["health"][b] for b in dashboards.BANDS],
                 r["unscored"], r["overdue_ctas"])
                for r in data["csm_rows"]
            ],
        )  # fmt: skip
    if table == "renewals":
        return _renewals_csv("team-renewals", data["renewals"])
    if table:
        raise Http404("No such table")
    data["summary_rows"] = _summary_rows(data["summary"])
    data["waterfall_chart"] = charts.waterfall_chart(data["waterfall"])
    data["trend_chart"] = _trend_chart(data["trend"])
    data["health_chart"] = _health_chart(data["csm_rows"])
    data["renewals_chart"] = _renewals_chart(data["renewals"])
    return _render(request, "metrics/team.html", flt, data)


def _renewals_chart(rows: list[dict]) -> dict:
    return charts.bar_chart([r["quarter"] for r in rows], [("ARR up for renewal", [r["arr"] for r in rows], "#0d6efd")])


def _renewals_csv(name: str, rows: list[dict]) -> HttpResponse:
    return _csv(
        name,
        ["quarter", "contracts", "arr", "signed", "churned", "open"],
        [(r["quarter"], r["contracts"], r["arr"], r["signed"], r["churned"], r["open"]) for r in rows],
    )


@_dashboard(*COMPANY_ROLES, company=True)
def portfolio(request, flt: scope.DashboardFilters):
    """Portfolio: the whole company (within the filters) by tier and segment."""
    data = dashboards.portfolio_dashboard(flt)
    table = request.GET.get("csv")
    if table == "summary":
        return _csv(
            "portfolio-summary", ["figure", "value"], [(r["label"], r["value"]) for r in _summary_rows(data["summary"])]
        )
    if table == "trend":
        return _csv(
            "portfolio-trend",
            ["month", "nrr_pct", "grr_pct", "logo_churn_pct", "mrr_end"],
            [(r["label"], r["nrr_pct"], r["grr_pct"], r["logo_churn_pct"], r["mrr_end"]) for r in data["trend"]],
        )
    if table in ("tiers", "segments"):
        keys = ["mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "mrr_end", "arr_end",
                "nrr_pct", "grr_pct", "customers_end", "logo_churn_pct"]  # fmt: skip
        return _csv(
            f"portfolio-{table}",
            [table[:-1], *keys],
            [(r["label"], *[r["summary"][k] for k in keys]) for r in data["breakdown"][table]],
        )
    if table == "renewals":
        return _renewals_csv("portfolio-renewals", data["renewals"])
    if table:
        raise Http404("No such table")
    data["summary_rows"] = _summary_rows(data["summary"])
    data["waterfall_chart"] = charts.waterfall_chart(data["waterfall"])
    data["trend_chart"] = _trend_chart(data["trend"])
    tiers = data["breakdown"]["tiers"]
    data["tier_chart"] = charts.bar_chart(
        [t["label"] for t in tiers], [("ARR at end", [t["summary"]["arr_end"] for t in tiers], "#0d6efd")]
    )
    data["renewals_chart"] = _renewals_chart(data["renewals"])
    return _render(request, "metrics/portfolio.html", flt, data)


@_dashboard()
def forecast(request, flt: scope.DashboardFilters):
    """Renewal forecast: per quarter, ARR up for renewal, health-weighted forecast, at-risk ARR, the CSMs' calls."""
    data = renewal_forecast(accounts=flt.accounts(), today=flt.today)
    table = request.GET.get("csv")
    if table == "quarters":
        keys = ["quarter", "contracts", "arr", "expected_arr", "weighted", "at_risk_arr", "commit_arr", "signed",
                "churned"]  # fmt: skip
        return _csv("renewal-forecast", keys, [[q[k] for k in keys] for q in data["quarters"]])
    if table == "contracts":
        return _csv(
            "renewal-contracts",
            ["account", "owner", "end_date", "quarter", "arr", "expected_arr", "band", "rate", "weighted", "stage",
             "call", "at_risk"],
            [
                (r["account"].name, str(r["account"].owner or ""), r["contract"].end_date, r["quarter"], r["arr"],
                 r["expected_arr"], r["band"], r["rate"], r["weighted"], r["stage"], r["call"], r["at_risk"])
                for r in data["rows"]
            ],
        )  # fmt: skip
    if table:
        raise Http404("No such table")
    for row in data["rows"]:
        row["can_call"] = row["renewal"] is not None and can_edit_account(request.user, row["account"])
    quarters = data["quarters"]
    data["chart"] = charts.bar_chart(
        [q["quarter"] for q in quarters],
        [
            ("ARR up for renewal", [q["expected_arr"] for q in quarters], charts.COLORS["blue"]),
            ("Weighted forecast", [q["weighted"] for q in quarters], charts.COLORS["green"]),
            ("At risk", [q["at_risk_arr"] for q in quarters], charts.COLORS["red"]),
        ],
    )
    data["band_rates"] = [(Band(b).label, b, data["rates"].get(b)) for b in dashboards.BANDS]
    return _render(request, "metrics/forecast.html", flt, data, period=False)


@_dashboard()
def cohorts(request, flt: scope.DashboardFilters):
    """Revenue and logo retention by start month: the triangle table and the average curves."""
    try:
        months = min(max(int(request.GET.get("months") or 12), 2), 36)
    except ValueError:
        months = 12
    tri = cohort_triangle(accounts=flt.accounts(), months=months, today=flt.today)
    table = request.GET.get("csv")
    if table in ("revenue", "logos"):
        key = "revenue_pct" if table == "revenue" else "logo_pct"
        return _csv(
            f"cohorts-{table}",
            ["cohort", "accounts", "mrr_month_0", *[f"month_{m}" for m in tri["months"]]],
            [
                (c["month"].strftime("%Y-%m"), c["size"], c["mrr0"], *[(x or {}).get(key) for x in c["cells"]])
                for c in tri["cohorts"]
            ],
        )
    if table:
        raise Http404("No such table")
    labels = [f"M{m}" for m in tri["months"]]
    chart = charts.line_chart(
        labels,
        [
            ("Revenue retention %", average_curve(tri, "revenue_pct"), charts.COLORS["blue"]),
            ("Logo retention %", average_curve(tri, "logo_pct"), charts.COLORS["green"]),
        ],
    )
    curve = list(zip(labels, average_curve(tri, "revenue_pct"), average_curve(tri, "logo_pct"), strict=True))
    return _render(
        request,
        "metrics/cohorts.html",
        flt,
        {"tri": tri, "chart": chart, "curve": curve, "months_shown": months},
        period=False,
    )


@_dashboard(*COMPANY_ROLES, company=True)
def health_backtest(request, flt: scope.DashboardFilters):
    """Does health predict churn: churn per band 90 days before the renewal, ROC AUC overall and per measure."""
    result = backtest(renewal_events(accounts=flt.accounts(), today=flt.today))
    table = request.GET.get("csv")
    if table == "bands":
        keys = ["band", "events", "renewed", "churned", "churn_rate", "renewal_rate", "arr"]
        return _csv("backtest-bands", keys, [[b[k] for k in keys] for b in result["bands"]])
    if table == "measures":
        keys = ["key", "events", "churned", "auc", "signal"]
        return _csv("backtest-measures", keys, [[m[k] for k in keys] for m in result["measures"]])
    if table:
        raise Http404("No such table")
    bands = result["bands"]
    chart = charts.bar_chart(
        [b["label"] for b in bands],
        [("Churn rate %", [None if b["churn_rate"] is None else b["churn_rate"] * 100 for b in bands], "#dc3545")],
    )
    measure_chart = charts.bar_chart(
        [m["key"] for m in result["measures"]], [("ROC AUC", [m["auc"] for m in result["measures"]], "#0d6efd")]
    )
    return _render(
        request,
        "metrics/backtest.html",
        flt,
        {"result": result, "chart": chart, "measure_chart": measure_chart},
        period=False,
    )


# --- Drill-down: the accounts behind a number --------------------------------------------------------------------
DRILL_LABELS = {
    "start": "Customers at the start of the period",
    "end": "Customers at the end of the period",
    "new": "New accounts",
    "reactivation": "Reactivated accounts",
    "expansion": "Expanded accounts",
    "contraction": "Contracted accounts",
    "churned": "Churned accounts",
    "book": "Accounts in the book",
    "overdue": "Accounts with overdue CTAs",
    "at_risk": "Renewals at risk",
    "renewing": "Accounts up for renewal",
    "band": "Accounts in a health band",
    "cohort": "Accounts of a start-month cohort",
    "backtest": "Accounts of renewal events in a health band",
}


def drill_ids(flt: scope.DashboardFilters, figure: str, arg: str):
    """The account ids (or an id queryset) behind one figure of a dashboard, for the same filters."""
    accounts = flt.accounts()
    if figure in MOVEMENTS:
        return movement_account_ids(start=flt.start, end=flt.end, accounts=accounts, movement=figure)[figure]
    if figure in ("start", "end"):
        column = "a0__gt" if figure == "start" else "a1__gt"
        rows = per_account_arr(start=flt.start, end=flt.end, accounts=accounts).filter(**{column: 0})
        return [r["account_id"] for r in rows]
    if figure == "book":
        return accounts.order_by().values("id")
    if figure == "band" and arg in Band.values:
        return accounts.filter(health__band=arg).order_by().values("id")
    if figure == "overdue":
        ctas = CTA.objects.filter(cta_active_q(flt.today), due_date__lt=flt.today, account_id__in=accounts.values("id"))
        return ctas.order_by().values("account_id")
    if figure in ("renewing", "at_risk"):
        data = renewal_forecast(accounts=accounts, today=flt.today)
        rows = [r for r in data["rows"] if (r["quarter"] == arg if figure == "renewing" else r["at_risk"])]
        if figure == "at_risk" and arg:
            rows = [r for r in rows if r["quarter"] == arg]
        return [r["account"].id for r in rows]
    if figure == "cohort":
        tri = cohort_triangle(accounts=accounts, months=36, today=flt.today)
        return next((c["ids"] for c in tri["cohorts"] if c["month"].strftime("%Y-%m") == arg), [])
    if figure == "backtest" and arg in Band.values:
        return [e.account_id for e in renewal_events(accounts=accounts, today=flt.today) if e.band == arg]
    raise Http404("Unknown figure")


@login_required
def drilldown(request):
    """Every dashboard number links here: the accounts behind it, with the same filters, as a table or CSV."""
    try:
        flt = scope.parse_filters(request.user, request.GET)
    except ValidationError as exc:
        return render(request, "metrics/bad_filters.html", {"errors": exc.message_dict}, status=400)
    figure, _, arg = (request.GET.get("figure") or "").partition(":")
    ids = drill_ids(flt, figure, arg)
    qs = Account.objects.filter(id__in=ids).select_related("owner", "health").order_by("name", "id")
    if request.GET.get("csv") == "accounts":
        return _csv(
            f"accounts-{figure}",
            ["id", "name", "owner", "tier", "arr", "health", "lifecycle_stage"],
            (
                (a.id, a.name, str(a.owner or ""), a.tier, a.arr, getattr(getattr(a, "health", None), "band", ""),
                 a.lifecycle_stage)
                for a in qs
            ),
        )  # fmt: skip
    page = Paginator(qs, DRILL_PAGE).get_page(request.GET.get("page"))
    context = {
        "flt": flt,
        "figure": figure,
        "arg": arg,
        "title": DRILL_LABELS.get(figure, figure) + (f" ({arg})" if arg else ""),
        "page": page,
        "qs": request.GET.urlencode(),
        "base_qs": flt.querystring(figure=request.GET.get("figure", "")),
    }
    return render(request, "metrics/drilldown.html", context)
