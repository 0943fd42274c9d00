"""Anki note types, stable ids and GUIDs, the lock file, and writing the .apkg."""
