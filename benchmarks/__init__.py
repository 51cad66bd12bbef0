"""Benchmark scripts: each ``benchmarks/qNN_*.py`` measures what a page shows as figures."""
