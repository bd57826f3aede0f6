"""Dialplan of lexcrm: Jinja2 templates of extensions.conf and the renderer fed by CRM data."""
