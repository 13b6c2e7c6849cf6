"""Pages of one member of a network (a firm user's firm, a learner's own plan): everyone else is refused alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from ..store.accounts import Accounts

Page = Callable[[Request], Awaitable[Response]]
# A page of one member, given the network and the member's id (a firm's or a learner's) from the URL.
MemberPage = Callable[[Request, str, str], Awaitable[Response]]


def member_pages(
    role: str,
    member_param: str,
    signed_in: Callable[[Page], Page],
    accounts: Accounts,
    refuse: Callable[[Request], Response],
) -> Callable[[MemberPage], Page]:
    """A guard for the pages under /…/{network}/{member_param}/: only a signed-in user who acts in `role` for that
    member reaches the page; an id the user may not act for is refused like one that does not exist."""

    def guard(page: MemberPage) -> Page:
        @signed_in
        async def member(request: Request) -> Response:
            network_id, member_id = request.path_params["network"], request.path_params[member_param]
            if not await accounts.is_member(request.session["user"], network_id, role, member_id):
                return refuse(request)
            return await page(request, network_id, member_id)

        return member

    return guard
