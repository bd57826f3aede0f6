"""Composition root of lexcrm: settings, the command line, process wiring and the event bus."""
