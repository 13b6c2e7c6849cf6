"""The console's web pages (Starlette, Jinja2 templates, its own static files)."""
