"""A partition job that crashes its first attempt at one partition, for the test that a
task Spark retries after a real failure leaves one chain. It lives in a module of its own
so that Spark's executors can import it by name (cloudpickle ships the instance, not the
class)."""

from __future__ import annotations

import os
from pathlib import Path

from engine.spark.parquet_chain import partition_name
from engine.spark.partition_task import AUDIT, RESULTS
from engine.spark.spark_job import _PartitionJob

CRASHING_PARTITION = 1


class CrashFirstAttempt(_PartitionJob):
    """The real partition job, except that the first attempt at ``CRASHING_PARTITION``
    leaves half-written attempt files behind and kills its Python worker, as an executor
    running out of memory mid-write would."""

    def __call__(self, index: int, rows):
        from pyspark import TaskContext

        context = TaskContext.get()
        if index == CRASHING_PARTITION and context.attemptNumber() == 0:
            out = Path(self.task.out)
            name = partition_name(index)
            (out / AUDIT / f".{name}.attempt-crashed").write_bytes(b"PAR1 half a file")
            (out / RESULTS / f".{name.replace('.parquet', '.jsonl')}.attempt-crashed") \
                .write_text('{"customer_id": "C-0', encoding="utf-8")
            os._exit(3)
        return super().__call__(index, rows)
