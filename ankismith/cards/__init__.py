"""The read stage: deck folders (deck.yaml, card files, images) into typed cards, each with its path:line."""
