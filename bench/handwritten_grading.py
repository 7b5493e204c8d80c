"""The default ruleset's grading stage written by hand in plain Python: the speed limit the
compiled grading stage is measured against. It reads the same values dict (facts and
derived facts) and returns the same (score, band grade, grade, reason codes). It keeps no
trace, which is what makes it a limit rather than a rival.

Kept in step with rulesets/default/grading.yaml; bench_decide.py checks that both give the
same answers on every generated customer before timing them, and
tests/test_handwritten_grading.py on generated customers and on the ruleset's own cases.
"""

from __future__ import annotations

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")


def grade(v: dict) -> tuple:
    """(score, band_grade, grade, reasons) for one customer's values."""
    x = v["current_ratio"]
    p0 = 20 if x is None else 0 if x < 0.8 else 25 if x < 1.0 else 50 if x < 1.5 else \
        75 if x < 2.5 else 80
    x = v["quick_ratio"]
    p1 = 10 if x is None else 0 if x < 0.5 else 30 if x < 1.0 else 60
    x = v["debt_ratio"]
    debt = x
    p2 = 10 if x is None else 90 if x < 0.4 else 65 if x < 0.6 else 35 if x < 0.8 else \
        10 if x < 1.0 else 0
    x = v["net_margin"]
    p3 = 10 if x is None else 0 if x < 0 else 25 if x < 0.03 else 50 if x < 0.08 else 70
    x = v["sales_growth"]
    p4 = 15 if x is None else 0 if x < -0.15 else 25 if x < 0 else 55 if x < 0.10 else \
        70 if x < 0.40 else 45
    r4 = "ERRATIC_GROWTH" if x is not None and x >= 0.40 else "DECLINING_SALES"
    x = v["operating.market_share"]
    p5 = 10 if x is None else 10 if x < 0.01 else 30 if x < 0.05 else 50 if x < 0.15 else 60
    x = v["inventory_turnover"]
    p6 = 35 if x is None else 0 if x < 2 else 25 if x < 4 else 55 if x < 8 else 70
    x = v["credit_history.overdue_count_12m"]
    p7 = 30 if x is None else 80 if x == 0 else 50 if 1 <= x < 3 else 20 if 3 <= x < 6 \
        else 0
    x = v["credit_history.max_days_overdue_12m"]
    days = x
    p8 = 30 if x is None else 90 if x <= 10 else 60 if x <= 30 else 30 if x <= 60 else \
        10 if x <= 90 else 0
    x = v["credit_history.on_time_payment_ratio"]
    p9 = 30 if x is None else 80 if x >= 0.95 else 55 if x >= 0.85 else 25 if x >= 0.70 \
        else 0
    amount, revenue = v["credit_history.overdue_amount"], v["financials.revenue"]
    x = None if amount is None or revenue is None or revenue == 0 else \
        float(amount) / float(revenue)
    p10 = 25 if x is None else 50 if x < 0.001 else 30 if x < 0.01 else 0
    x = v["industry.risk_class"]
    if x is None:
        x = v["indicators.industry.risk_class"]
    p11 = 90 if x == "low" else 60 if x == "medium" else 25 if x == "high" else 0
    x = v["industry.growth"]
    if x is None:
        x = v["indicators.industry.growth"]
    p12 = 20 if x is None else 0 if x < -0.02 else 25 if x < 0.02 else 50
    x = v["industry.concentration"]
    if x is None:
        x = v["indicators.industry.concentration"]
    p13 = 20 if x is None else 60 if x < 0.4 else 40 if x < 0.7 else 15
    score = 100 + p0 + p1 + p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9 + p10 + p11 + p12 + p13
    lost = ((p0 - 80, 0, "WEAK_LIQUIDITY"), (p1 - 60, 1, "WEAK_QUICK_LIQUIDITY"),
            (p2 - 90, 2, "HIGH_LEVERAGE"), (p3 - 70, 3, "LOW_PROFITABILITY"),
            (p4 - 70, 4, r4), (p5 - 60, 5, "SMALL_MARKET_POSITION"),
            (p6 - 70, 6, "SLOW_INVENTORY"), (p7 - 80, 7, "FREQUENT_LATE_PAYMENT"),
            (p8 - 90, 8, "LONG_ARREARS"), (p9 - 80, 9, "POOR_PAYMENT_RECORD"),
            (p10 - 50, 10, "HIGH_OVERDUE_AMOUNT"), (p11 - 90, 11, "RISKY_INDUSTRY"),
            (p12 - 50, 12, "SHRINKING_INDUSTRY"), (p13 - 60, 13, "CONCENTRATED_INDUSTRY"))
    reasons = []
    for negative, _, reason in sorted(lost):
        if negative >= 0 or len(reasons) >= 4:
            break
        if reason not in reasons:
            reasons.append(reason)
    rank = 0 if score >= 860 else 1 if score >= 780 else 2 if score >= 700 else \
        3 if score >= 610 else 4 if score >= 520 else 5 if score >= 420 else 6
    band = GRADES[rank]
    # Floors first (a parent guarantee, by the guarantor's grade), then caps: a cap wins.
    if v["flags.parent_guarantee"] is True:
        guarantor = v["attributes.guarantor_grade"]
        amount, asked = v["attributes.guarantee_amount"], v["credit_asked"]
        if amount is not None and asked is not None and amount >= asked:
            floor = 2 if guarantor in ("AAA", "AA") else 3 if guarantor == "A" else \
                4 if guarantor == "BBB" else 6
            if rank > floor:
                rank = floor
    # A cap only ever lowers the grade, so the caps' order does not matter: one to CCC ends it.
    defaults, equity = v["attributes.payment_defaults_12m"], v["financials.equity"]
    if v["flags.insolvency_proceedings"] or (defaults is not None and defaults >= 1) or \
            (days is not None and days > 180) or (debt is not None and debt > 1) or \
            (equity is not None and equity < 0):
        return score, band, "CCC", reasons
    if days is not None and days > 90 and rank < 5:
        rank = 5
    on_time = v["credit_history.on_time_payment_ratio"]
    late = v["credit_history.overdue_count_12m"]
    delinquent = v["credit_history.average_days_delinquent"]
    if ((on_time is not None and on_time < 0.5) or (late is not None and late >= 6) or
            (delinquent is not None and delinquent > 30)) and rank < 4:
        rank = 4
    years = v["years_in_business"]
    if years is not None and years < 3 and rank < 3:
        rank = 3
    months = v["credit_history.months_known"]
    if (months if months is not None else 0) < 6 and rank < 2:
        rank = 2
    return score, band, GRADES[rank], reasons
