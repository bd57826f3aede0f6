"""Web interface of lexcrm: aiohttp + Jinja2 app with one workspace per job, sessions and CSRF."""
