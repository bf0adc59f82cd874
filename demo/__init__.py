"""`neot demo`: the whole NEOT story on one machine, from emulated cars to payouts on a local chain."""

from demo.cli import register

__all__ = ["register"]
