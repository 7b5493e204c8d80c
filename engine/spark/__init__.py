"""Deciding a portfolio on Apache Spark, with a partitioned audit that stays verifiable.

Spark runs the same per-chunk decide function as ``credit batch`` (``batch.decide_rows``)
in ``mapPartitions``. Each partition writes its audit records as its own hash chain in one
Parquet file (``parquet_chain``); a manifest lists every partition's size and head
(``manifest``), and its SHA-256 is anchored in the SQLite trail by one record. Checking and
replaying the partitions (``parquet_verify``, ``parquet_replay``) need pyarrow, never Spark.
Only ``spark_job`` imports pyspark, and only when a job runs.
"""
