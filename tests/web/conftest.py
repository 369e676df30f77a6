"""The web pages' fixtures (``people``, ``visit``) are in tests/conftest.py: other suites' stories
end on a clerk's page too."""
