"""Keyset pagination for every list endpoint: `?limit=&after=`, the next page in a `Link` header.

A page is the rows after the sort key of the last row seen (`after`, an opaque cursor), never an
offset: the database seeks to the cursor through the list's index, so page 1,000 costs what page
one does, and rows added meanwhile neither repeat nor vanish. Bodies stay plain JSON arrays;
`Link: <…?after=…>; rel="next"` (RFC 8288) is present while more rows follow.

It composes with authorisation: the data-access function filters with its access condition
first (`insurer_api.access`), `Page.apply` then adds the cursor, order and limit to that query.

    page = Page(limit=100)                                       # from the `PageDep` dependency
    rows = session.scalars(page.apply(select(Policy).where(policy_visible(user)), Policy.id)).all()
    result = paged(rows, page, lambda p: (p.id,))                # a `Paged`: items + next cursor
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from starlette.datastructures import URL

from insurer_api.errors import InvalidRequestError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "PageDep", "Paged", "by_id", "get_page", "paged", "respond"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

type Key = int | date
type SortColumn = InstrumentedAttribute[Any] | ColumnElement[Any]


def _encode(key: tuple[Key, ...]) -> str:
    parts = [v.isoformat() if isinstance(v, date) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError("after: not a cursor from this list (use the `Link` header's)") from exc
    if not isinstance(parts, list) or not parts:
        raise InvalidRequestError("after: not a cursor from this list (use the `Link` header's)")
    return parts


def _value(column: SortColumn, raw: object) -> Key:
    python_type = column.type.python_type
    if python_type is date and isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    elif python_type is int and type(raw) is int:
        return raw
    raise InvalidRequestError("after: not a cursor from this list (use the `Link` header's)")


@dataclass(frozen=True, slots=True)
class Page:
    """One page request: at most `limit` rows after `after` (a cursor from a previous page)."""

    limit: int = DEFAULT_LIMIT
    after: str | None = None
    url: str = field(default="", compare=False)  # the request's, for the next page's link

    def apply[Q: Select[*tuple[Any, ...]]](self, query: Q, *keys: SortColumn, descending: bool = False) -> Q:
        """`query` ordered by `keys` (together unique, e.g. ending in the primary key), after the
        cursor, one row over the limit (so `paged` can tell whether another page follows)."""
        if self.after is not None:
            parts = _decode(self.after)
            if len(parts) != len(keys):
                raise InvalidRequestError("after: not a cursor from this list (use the `Link` header's)")
            values = tuple_(*(_value(k, v) for k, v in zip(keys, parts, strict=True)))
            query = query.where(tuple_(*keys) < values if descending else tuple_(*keys) > values)
        order = [k.desc() for k in keys] if descending else list(keys)
        return query.order_by(*order).limit(self.limit + 1)


@dataclass(frozen=True, slots=True)
class Paged[T]:
    """A page of rows and the cursor of the next page (None on the last)."""

    items: list[T]
    next_after: str | None


def paged[T](rows: Sequence[T], page: Page, key: Callable[[T], tuple[Key, ...]]) -> Paged[T]:
    """The page out of the rows `Page.apply`'s query returned; `key` gives a row's sort key."""
    items = list(rows[: page.limit])
    more = len(rows) > page.limit
    return Paged(items=items, next_after=_encode(key(items[-1])) if more and items else None)


def by_id(row: Any) -> tuple[int]:
    """The sort key of a row listed by its id alone."""
    return (row.id,)


def respond[T](response: Response, page: Page, result: Paged[T]) -> list[T]:
    """The page's items; sets `Link: <…>; rel="next"` on `response` when another page follows."""
    if result.next_after is not None:
        url = URL(page.url).include_query_params(after=result.next_after, limit=page.limit)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return result.items


async def get_page(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = DEFAULT_LIMIT,
    after: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=r"^[A-Za-z0-9_-]+$",
            description='Cursor of the next page, from the previous page\'s `Link: <…>; rel="next"` header',
        ),
    ] = None,
) -> Page:
    """The page a list request asks for (async: no I/O, so no worker-thread hop)."""
    return Page(limit=limit, after=after, url=str(request.url))


type PageDep = Annotated[Page, Depends(get_page)]
