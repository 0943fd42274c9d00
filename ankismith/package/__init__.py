"""The package stage: note types, the lock, and the .apkg written."""
