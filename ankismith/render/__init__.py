"""The render stage: Markdown and math to HTML, cards (and their solved instances) to note fields."""
