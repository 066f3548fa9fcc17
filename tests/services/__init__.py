"""Real services for the test suite, started from binaries in temp directories."""
