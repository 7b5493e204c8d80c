"""The ``credit`` command: click commands and output formatting only. Every command
parses its options, calls the Python API and prints what it returns."""
