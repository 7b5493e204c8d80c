"""Monitoring: accounts built from their events, the durable_rules session (the only
code that imports durable_rules), one customer through the monitoring rules, and a
monitor run over the whole event log."""
