"""Data contracts on bronze and the quarantine of rows that break them."""
