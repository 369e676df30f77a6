"""The agency registry: identifier codes, their hierarchy, and the agencies they name."""
