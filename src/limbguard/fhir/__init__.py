"""FHIR R4 in and out: Bundle and Bulk NDJSON import into the registry, Bulk export.

Everything the importer writes goes through the registry's services; this app holds
the mapping (FHIR resource ⇄ registry record), the streaming readers and writers,
the upload page and its import jobs.
"""
