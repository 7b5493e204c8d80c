"""The rule language: YAML read with the position of every value, JSON Schema checks,
the expression language, decision-table cells (unary tests) and hit policies, and the
Python source a compiled ruleset becomes, with the runtime helpers that source calls.

Nothing here knows what a ruleset stage means; ``engine.ruleset`` builds on it."""
