"""`GET /v1/proofs/{record_type}/{record_id}`: a record's self-contained Merkle proof."""

from insurer_api.proofs.routes import router

__all__ = ["router"]
