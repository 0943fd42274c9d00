"""The orchestrator (read -> solve -> render -> package, in run.py), its build cache and its compile workers."""
