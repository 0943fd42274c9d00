"""The shared model every stage stands on: cards as read, notes as rendered, ids and hashes (stdlib only)."""
