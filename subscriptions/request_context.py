"""The hot path's request-scoped state: one ``AccessContext`` under ``request.access_context``.

The rate limiter's round trip may bring the access keys (``read_along``), the authentication makes
or adopts the cache ``lookup``, and the views compute the ``summary`` once; they all meet here
instead of in attributes of their own on the request. A DRF ``Request`` reads attributes of the
Django request it wraps, so a context set on either is found from both.
"""

from dataclasses import dataclass, field

from subscriptions.cache import Lookup, PlannedRead
from subscriptions.rendered import ComposedSummary

CONTEXT_ATTR = "access_context"


@dataclass
class AccessContext:
    read_along: Lookup | None = None  # what the rate limiter's round trip read for this user
    lookup: Lookup | None = None  # the lookup the hot-path authentication used
    summary: ComposedSummary | None = None  # the access summary, once computed
    # A public list's page ident per active language (subscriptions.list_cache.page_ident).
    page_idents: dict[str, str | None] = field(default_factory=dict)


def access_context(request) -> AccessContext:
    """This request's context, created on first use."""
    context = getattr(request, CONTEXT_ATTR, None)
    if context is None:
        context = AccessContext()
        setattr(request, CONTEXT_ATTR, context)
    return context


def request_lookup(request) -> Lookup | None:
    """The cache lookup the hot-path authentication made for this request, if any."""
    context = getattr(request, CONTEXT_ATTR, None)
    return context.lookup if context is not None else None


def read_along_lookup(request, planned: PlannedRead) -> Lookup | None:
    """The Lookup the limiter's round trip brought for exactly this planned read, if any."""
    context = getattr(request, CONTEXT_ATTR, None)
    lookup = context.read_along if context is not None else None
    if lookup is None or lookup.user_id != planned.user_id or lookup.idents != planned.wanted:
        return None
    return lookup
