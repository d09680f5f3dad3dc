"""The STFT initializer: a Conv1D kernel that computes one side of a short-time Fourier transform.

For a kernel of shape (T, 1, F) (T = window length, F = fft_length // 2 + 1 frequencies), with
N = 2 (F - 1) the length of the FFT it stands for::

    angle[t, f] = -2 · t · (f / N) · π
    kernel[t, 0, f] = cos(angle) ("real") or sin(angle) ("imag"),  times window[t] / scale

``scale`` is √Σ window² ("density"), Σ|window| ("spectrum") or 1 (None). The common windows are
computed here with numpy, as ``scipy.signal.get_window`` computes them; any other scipy window name
needs scipy (imported only then).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.initializers.initializer import Initializer, as_dtype, as_shape


# ----- windows (scipy.signal.windows's formulas; float64) -----

def _cosine_sum(n: int, coefficients: tuple[float, ...]) -> np.ndarray:
    """Σ_k a_k cos(k x) on n points x from -π to π (Hann, Hamming and Blackman are these)."""
    x = np.linspace(-np.pi, np.pi, n)
    w = np.zeros(n)
    for k, a in enumerate(coefficients):
        w += a * np.cos(k * x)
    return w


def _triangle(n: int) -> np.ndarray:
    """scipy's ``triang``: never zero at the ends."""
    k = np.arange(1, (n + 1) // 2 + 1, dtype=np.float64)
    if n % 2 == 0:
        half = (2 * k - 1.0) / n
        return np.concatenate([half, half[::-1]])
    half = 2 * k / (n + 1.0)
    return np.concatenate([half, half[:-1][::-1]])


def _bartlett(n: int) -> np.ndarray:
    """A triangle that is zero at both ends."""
    k = np.arange(n, dtype=np.float64)
    return np.where(k <= (n - 1) / 2.0, 2.0 * k / (n - 1), 2.0 - 2.0 * k / (n - 1))


_WINDOWS = {
    "boxcar": lambda n: np.ones(n), "triang": _triangle, "bartlett": _bartlett,
    "hann": lambda n: _cosine_sum(n, (0.5, 1.0 - 0.5)),
    "hamming": lambda n: _cosine_sum(n, (0.54, 1.0 - 0.54)),
    "blackman": lambda n: _cosine_sum(n, (0.42, 0.50, 0.08)),
    "cosine": lambda n: np.sin(np.pi / n * (np.arange(n, dtype=np.float64) + 0.5)),
}
_ALIASES = {"box": "boxcar", "ones": "boxcar", "rect": "boxcar", "rectangular": "boxcar",
            "triangle": "triang", "tri": "triang", "bart": "bartlett", "brt": "bartlett",
            "han": "hann", "hamm": "hamming", "ham": "hamming", "black": "blackman",
            "blk": "blackman", "halfcosine": "cosine"}


def get_window(name: str, length: int, periodic: bool = False) -> np.ndarray:
    """The window ``name`` of ``length`` points (float64), symmetric or periodic.

    A periodic window is the symmetric window of ``length + 1`` points without its last point
    (scipy's ``fftbins=True``).

    Example:
        >>> get_window("hann", 5).round(2).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    key = _ALIASES.get(name, name)
    if key not in _WINDOWS:
        try:
            import scipy.signal
        except ImportError:
            raise ValueError(f"STFT window {name!r} needs scipy (pip install scipy); without it "
                             f"the windows are: {', '.join(sorted(_WINDOWS))}") from None
        return np.asarray(scipy.signal.get_window(name, length, periodic), dtype=np.float64)
    if length <= 1:
        return np.ones(length)
    if periodic:
        return _WINDOWS[key](length + 1)[:-1]
    return _WINDOWS[key](length)


# ----- the initializer -----

class STFT(Initializer):
    """Conv1D kernel of a short-time Fourier transform (its real or imaginary side), windowed.

    Args:
        side: ``"real"`` (cosines) or ``"imag"`` (sines).
        window: a window name (``"hann"``, ``"hamming"``, ...), the window's values, or None.
        scaling: ``"density"`` (divide by √Σw²), ``"spectrum"`` (by Σ|w|) or None.
        periodic: a periodic window (the symmetric one of length T+1 without its last point).

    NOTE: Keras returns shape (T, 1, F) whatever the middle dimension asked for; here the kernel is
    repeated along it, so the result always has the requested shape.

    Example:
        >>> k = STFT("real", window=None)((4, 1, 3))
        >>> (k[:, 0, :].round(3) + 0.0).tolist()   # + 0.0 turns -0.0 into 0.0
        [[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [1.0, -1.0, 1.0], [1.0, 0.0, -1.0]]
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side should be 'real' or 'imag', not {side!r}")
        if isinstance(window, str):
            get_window(window, 1)  # an unknown name fails here, not when the layer is built
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("STFT: scaling is invalid, it must be None, 'density' or "
                             f"'spectrum'. Received scaling={scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        shape, dtype = as_shape(shape), as_dtype(dtype)
        if len(shape) != 3:
            raise ValueError("STFT expects a kernel shape (frame_length, input_channels, "
                             f"fft_bins), received shape {shape}")
        frames, _, bins = shape
        # Keras's order, each step rounded to dtype: ((-2·t)·(f / N))·π.
        time = np.arange(frames, dtype=dtype).reshape(frames, 1, 1)
        freq = np.arange(bins, dtype=dtype).reshape(1, 1, bins) / dtype.type((bins - 1) * 2)
        angle = (-2 * time) * freq * dtype.type(np.pi)
        # NOTE: cos/sin are evaluated in float64 and rounded once (the correctly rounded value);
        # TensorFlow's float32 cos/sin may differ by an ulp.
        wave = (np.cos(angle.astype(np.float64)) if self.side == "real"
                else np.sin(angle.astype(np.float64)))
        kernel = wave.astype(dtype)
        if self.window is not None:
            window = self.window
            if isinstance(window, str):
                window = get_window(window, frames, self.periodic)
            window = np.asarray(window).astype(dtype)
            if window.shape != (frames,):
                raise ValueError(f"STFT: the window must have shape ({frames},) (the frame "
                                 f"length), received window shape {window.shape}")
            window = window.reshape(frames, 1, 1)
            scale = dtype.type(1)
            if self.scaling == "density":
                scale = np.sqrt(np.sum(np.square(window)))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(window))
            kernel = kernel * window / scale
        return np.ascontiguousarray(np.broadcast_to(kernel, shape), dtype=dtype)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}
