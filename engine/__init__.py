"""credit-rules: a rule engine for customer (trade) credit management."""

__version__ = "0.1.0"
