"""The signatures inside a document's files (PDF, PAdES), checked at intake: see findings.py."""
