"""Enrichment, the impure step before the decision: the plugin hooks and manager,
asking plugins for indicators, bureau reports and expert judgments, and reading customer
documents and portfolios (JSON, CSV, JSON Lines) into checked documents."""
