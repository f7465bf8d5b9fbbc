"""Benchmark of the slot engine, the selectors and the availability API: `python -m bench` (or `make bench`).

It builds its own throwaway database through Django's test database machinery
(never the development one), fills it with a busy clinic and prints how long
free times take to compute, against the targets in the README.
"""
