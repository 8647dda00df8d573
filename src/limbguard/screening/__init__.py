"""Population screening (issue 9): SQL on FHIR v2 views over Bulk NDJSON or Parquet,
compiled to SQL for DuckDB (default, in-process) or Apache Spark, then screening rules,
the outreach worklist and the "amputation without vascular evaluation" measure.

Pure of Django except ``intake_bridge`` (``--to-intake``) and the management command.
"""
