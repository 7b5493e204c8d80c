"""Monitoring: accounts built from their events (with their cases, disputes and promises
to pay, and the security for their credit), the durable_rules session (the only code that
imports durable_rules), one customer through the monitoring rules, and a monitor run over
the whole event log."""
