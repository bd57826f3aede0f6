"""The demo firm of `lexcrm demo-data` and the benchmarks: the same seed gives the same firm."""
