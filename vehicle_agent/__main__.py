"""`python -m vehicle_agent keygen | run | status`: the in-car agent's commands on their own."""

from vehicle_agent.cli import main

main()
