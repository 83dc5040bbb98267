"""Experiment design and analysis.

power.py (sample size, power, MDE), sequential.py (group-sequential boundaries),
assign.py (hash-based assignment), srm.py (sample-ratio mismatch), design.py (plans
and their advice).
"""
