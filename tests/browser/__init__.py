"""Browser tests: the real web app in headless Chromium."""
