"""`neot demo`: the whole NEOT story on one machine, from emulated cars to payouts on a local chain."""

from neot.demo._state import register

__all__ = ["register"]
