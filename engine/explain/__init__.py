"""What would it take: the smallest changes to a recorded customer's inputs that would
reach a grade (``credit explain DECISION_ID --to GRADE``).

The recorded decision is decided again from the trail (its enriched facts, as-of date and
stored ruleset); the compiled scorecard, derived facts, caps and knock-outs say which
inputs move which points and where each bin's edge lies; every suggestion is decided with
the real pipeline before it is shown. Reads the audit trail, so it sits above it."""
