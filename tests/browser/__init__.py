"""Tests of what runs on the card (card.js, numeric.css) in headless Chromium, per Anki client."""
