"""Attention: scaled dot-product scores and their row softmax."""

from __future__ import annotations
