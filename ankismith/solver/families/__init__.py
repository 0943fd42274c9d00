"""The built-in problem families, one module per topic."""
