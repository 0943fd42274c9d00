"""Normalization and dropout: batch norm's forward pass, inverted dropout's scaling."""

from __future__ import annotations
