"""The web pages under ``/ui/``: clerks follow their documents, administrators keep the registry.

Server-rendered (Jinja2 through aiohttp-jinja2), one small script for the live timeline, no
front-end build. An aiohttp sub-application with its own middlewares (sessions, security headers
and error pages, CSRF); the composition root mounts it with ``setup``. See docs/web.md.
"""

from axis.web.mount import setup

__all__ = ["setup"]
