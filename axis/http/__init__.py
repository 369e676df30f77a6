"""aiohttp adapters: they translate HTTP to calls on the core and back, nothing more."""
