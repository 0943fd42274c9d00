"""The build: the orchestrator (read -> solve -> render -> package), its cache and its compile workers."""
