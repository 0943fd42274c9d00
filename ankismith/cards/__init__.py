"""Read deck folders and Markdown into typed cards; render them to HTML."""
