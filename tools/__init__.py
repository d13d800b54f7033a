"""Developer tools: benchmark, offline change report, architecture picture."""
