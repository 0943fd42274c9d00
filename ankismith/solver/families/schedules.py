"""Learning-rate schedules: step decay, cosine annealing, linear warm-up (PyTorch's lr_scheduler forms)."""

from __future__ import annotations
