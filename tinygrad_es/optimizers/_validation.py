"""Argument checks for the optimizers: what is accepted at construction, and the messages that
say what was received."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tinygrad_es.i18n import tr


def is_number(value: Any) -> bool:
    """A real number that is not a bool (numpy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Validate a hyperparameter at construction and return it as a Python float.

    Raises TypeError for a non-number and ValueError outside ``[low, high]`` (``low_open`` /
    ``high_open`` exclude the ends); both messages say what was received.

    Example:
        >>> check_number("beta_1", 0.9, 0.0, 1.0, high_open=True)
        0.9
    """
    if not is_number(value):
        raise TypeError(tr("`{name}` must be a number, received {name}={value!r} of type {cls}",
                           name=name, value=value, cls=type(value).__name__))
    value = float(value)
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high or value != value:
        interval = (f"{'(' if low_open else '['}{low if low is not None else '-inf'}, "
                    f"{high if high is not None else 'inf'}{')' if high_open else ']'}")
        raise ValueError(tr("`{name}` must be in {interval}, received {name}={value!r}", name=name,
                            interval=interval, value=value))
    return value


def check_base_arguments(*, weight_decay=None, clipnorm=None, clipvalue=None,
                         global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                         ema_overwrite_frequency=None, loss_scale_factor=None,
                         gradient_accumulation_steps=None) -> None:
    """The checks of :class:`Optimizer`'s own arguments (Keras's, plus ranges Keras leaves open).

    Example:
        >>> check_base_arguments(clipnorm=1.0, clipvalue=0.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. ...
    """
    clip_set = [k for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                               ("global_clipnorm", global_clipnorm)) if v is not None]
    if len(clip_set) > 1:
        raise ValueError(
            tr("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
               "Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
               "global_clipnorm={global_clipnorm}", clipnorm=clipnorm, clipvalue=clipvalue,
               global_clipnorm=global_clipnorm))
    for key, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm),
                       ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
        if value is not None:
            check_number(key, value, 0.0)
    if loss_scale_factor is not None:
        check_number("loss_scale_factor", loss_scale_factor, 0.0, low_open=True)
    if gradient_accumulation_steps and (
            not isinstance(gradient_accumulation_steps, numbers.Integral)
            or gradient_accumulation_steps < 2):
        raise ValueError(tr("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                            "gradient_accumulation_steps={gradient_accumulation_steps!r}",
                            gradient_accumulation_steps=gradient_accumulation_steps))
    if use_ema:
        check_number("ema_momentum", ema_momentum, 0.0, 1.0)
        if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, numbers.Integral)
                or ema_overwrite_frequency < 1):
            raise ValueError(tr("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                "Received: ema_overwrite_frequency={ema_overwrite_frequency!r}",
                                ema_overwrite_frequency=ema_overwrite_frequency))


def check_learning_rate(value: Any) -> None:
    """A float learning rate must be a finite number >= 0 (schedules and callables are not
    checked here)."""
    if not is_number(value):
        raise TypeError(
            tr("`learning_rate` must be a number, a LearningRateSchedule or a callable, "
               "received learning_rate={value!r} of type {cls}", value=value,
               cls=type(value).__name__))
    if not value >= 0 or value == float("inf"):
        raise ValueError(tr("`learning_rate` must be a finite number >= 0, received "
                            "learning_rate={value!r}", value=value))


def as_gradient(grad: Any, w: np.ndarray) -> np.ndarray:
    """A gradient as an ndarray of the variable's dtype and shape (never modified in place)."""
    if type(grad) is not np.ndarray:
        data = getattr(grad, "data", None)
        grad = data if isinstance(data, np.ndarray) else np.asarray(grad)
    if grad.dtype != w.dtype:
        grad = grad.astype(w.dtype)
    if grad.shape != w.shape:
        raise ValueError(tr("A gradient of shape {shape} was given for a variable of shape "
                            "{shape2}", shape=grad.shape, shape2=w.shape))
    return grad
