"""Rulesets: reading a ruleset folder (the manifest and its stage files) and compiling
each stage (derived facts, admission, grading, policy, approval, escalation, monitoring)
into one Python module; the challenger a ruleset names is loaded and checked here too."""
