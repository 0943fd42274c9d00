"""Backpropagation by hand: through a small MLP, and the softmax cross-entropy gradient."""

from __future__ import annotations
