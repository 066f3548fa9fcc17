"""The daily run as plain step functions over a RunContext, and the in-process runner."""
