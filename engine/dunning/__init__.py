"""Dunning letters and account statements: what each says (from the audit trail: the
monitor's collections steps, the account folded from its events, the late-payment charges),
the ruleset's Jinja2 templates run in a sandbox, and the files written and recorded."""
