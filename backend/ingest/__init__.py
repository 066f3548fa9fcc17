"""Source extractors writing bronze Delta tables."""
