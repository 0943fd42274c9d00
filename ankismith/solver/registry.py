"""The problem families a numeric block may name, by name: the built-in ones, in the order listed."""

from __future__ import annotations

from ankismith.solver.families.activations import ACTIVATION_GRAD
from ankismith.solver.families.conv import (
    CNN_PARAMS,
    CONV2D,
    CONV_MACS,
    CONV_OUTPUT_SIZE,
    RECEPTIVE_FIELD,
    SAME_PADDING,
)
from ankismith.solver.families.dense import DENSE_PARAMS, LSTM_PARAMS
from ankismith.solver.families.losses import SOFTMAX_CROSS_ENTROPY
from ankismith.solver.families.optim import ADAM_STEP, GD_STEP, MOMENTUM_STEP
from ankismith.solver.families.pooling import MAXPOOL_BACKWARD, POOL2D
from ankismith.solver.family import Family

FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        DENSE_PARAMS,
        CONV_OUTPUT_SIZE,
        SAME_PADDING,
        CONV2D,
        CNN_PARAMS,
        GD_STEP,
        POOL2D,
        MOMENTUM_STEP,
        ADAM_STEP,
        SOFTMAX_CROSS_ENTROPY,
        ACTIVATION_GRAD,
        RECEPTIVE_FIELD,
        CONV_MACS,
        LSTM_PARAMS,
        MAXPOOL_BACKWARD,
    )
}
