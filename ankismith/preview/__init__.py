"""The preview: every card as Anki shows it, as a static site (`site`) or served live (`serve`)."""
