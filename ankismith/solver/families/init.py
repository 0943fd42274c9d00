"""Weight initialization: the bounds and standard deviations of Xavier (Glorot) and He (Kaiming)."""

from __future__ import annotations
