"""`/v1/epochs`: the Merkle epochs whose roots are anchored on NEO (public data: roots reveal nothing)."""

from insurer_api.epochs.routes import router

__all__ = ["router"]
