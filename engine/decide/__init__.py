"""The pure decision: (compiled ruleset, enriched facts, as-of date) -> Decision, with
expert overrides judged against the authority matrix, the redaction of what identifies a
decision, and the challenger's decision beside the champion's. No clock, no I/O."""
