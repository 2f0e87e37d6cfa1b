"""End-to-end tests: real proxies, real waitress, a real browser (issue 5)."""
