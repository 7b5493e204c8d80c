"""Rule quality tools: a ruleset's own test cases (position and account cases),
coverage, lint, the diff between two rulesets, simulating a change over a portfolio or
the audit trail, and the reports they make."""
