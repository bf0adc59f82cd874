"""The anchoring loop and its NEO client (these import the chain SDK, neo-mamba)."""

from scoring_service.anchoring._anchorer import Anchorer, Progress
from scoring_service.anchoring._chain import AnchorChain, SignedAnchor, TxOutcome

__all__ = ["AnchorChain", "Anchorer", "Progress", "SignedAnchor", "TxOutcome"]
