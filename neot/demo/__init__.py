"""`neot demo`: the whole NEOT story on one machine, from emulated cars to payouts on a local chain."""

from neot.demo.cli import register

__all__ = ["register"]
