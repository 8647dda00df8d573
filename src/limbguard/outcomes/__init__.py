"""Program outcomes (issue 6): cohorts, survival and cumulative incidence, benchmarks,
the analytics page and `limbguard report`. Reads the treatment records; writes nothing
clinical."""
