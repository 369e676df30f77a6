"""People who log in to the web pages, and a visitor with a cookie jar of its own that fills in
the CSRF token of the last page it saw, as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from axis.accounts import passwords
from axis.accounts.users import Role

PASSWORD = "mat-khau-thu-nghiem-1"
#: Cheap hashes for the fixtures' users (the stored parameters are what verification uses); the
#: first log-in upgrades each to the real cost, which the tests then exercise too.
CHEAP = passwords.Cost(n=2**10, r=8, p=1)
PEOPLE = {
    "vanthu.bac": (Role.CLERK, "bac", "Nguyễn Thị Văn Thư"),
    "vanthu.nam": (Role.CLERK, "nam", "Trần Văn Nam"),
    "quantri": (Role.ADMIN, None, "Lê Quản Trị"),
}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Visitor:
    """One browser: its own cookies; remembers the CSRF token of the last page it loaded."""

    base: URL
    session: aiohttp.ClientSession
    csrf: str = ""
    last: str = field(default="", repr=False)

    async def get(self, path: str, *, expect: int = 200, follow: bool = True) -> str:
        async with self.session.get(self.base.join(URL(path)), allow_redirects=follow) as response:
            text = await response.text()
            assert response.status == expect, (path, response.status, text[:2000])
            self._remember(text)
            return text

    async def response(self, path: str) -> aiohttp.ClientResponse:
        response = await self.session.get(self.base.join(URL(path)), allow_redirects=False)
        await response.read()
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None, *, expect: int = 200, csrf: bool = True,
                   headers: dict[str, str] | None = None) -> str:  # fmt: skip
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        async with self.session.post(self.base.join(URL(path)), data=form, headers=headers) as response:
            text = await response.text()
            assert response.status == expect, (path, response.status, text[:2000])
            self._remember(text)
            return text

    def _remember(self, text: str) -> None:
        self.last = text
        found = _CSRF.search(text)
        if found:
            self.csrf = found.group(1)

    async def log_in(self, username: str, password: str = PASSWORD, *, expect: int = 200) -> str:
        await self.get("/ui/login")
        return await self.post("/ui/login", {"username": username, "password": password}, expect=expect)

    def cookie(self) -> str | None:
        for cookie in self.session.cookie_jar:
            if cookie.key == "axis_session":
                return cookie.value
        return None
