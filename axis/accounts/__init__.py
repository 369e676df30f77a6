"""The people who log in to the web pages: their accounts, password hashing, log-in accounting
and sessions. The pages, the CLI and the tests use these; none of them holds the SQL."""
