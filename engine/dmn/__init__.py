"""DMN XML: decision tables read from ``.dmn`` files into a ruleset's derived stage, and a
stage's tables written back out as DMN, so tables made in Camunda, Drools or other DMN
tools can be checked with ``credit validate``, ``credit test`` and ``credit lint``."""
