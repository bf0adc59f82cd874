"""FastAPI dependencies shared by every router of the service, and by apps that mount them.

The session factory lives on `app.state`, put there once by `install_database`; routers never
open engines themselves, so the insurer API can mount our routers on its own database.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import make_session_factory

__all__ = ["SessionDep", "SessionFactoryDep", "get_session", "get_session_factory", "install_database"]


def install_database(app: FastAPI, engine: Engine) -> None:
    """Make `engine` the database of every route of `app` that takes `SessionDep`."""
    app.state.session_factory = make_session_factory(engine)


def get_session_factory(request: Request) -> sessionmaker[Session]:
    """The app's session factory, for handlers that run several transactions of their own."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def get_session(factory: Annotated[sessionmaker[Session], Depends(get_session_factory)]) -> Iterator[Session]:
    """One session per request, closed afterwards. Handlers commit; anything uncommitted rolls back."""
    with factory() as session:
        yield session


type SessionDep = Annotated[Session, Depends(get_session)]
type SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
