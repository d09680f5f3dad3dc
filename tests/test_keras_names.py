"""Every public name of Keras's optimizers, losses, metrics, initializers, activations, callbacks
and regularizers exists in the tinygrad_es module of the same name, and is the same kind of thing.

The names are read from the installed Keras inside the test, so a new Keras name fails here until
it is added, or until it is listed in ``NOT_PROVIDED`` with the reason and what to use instead.
``get`` / ``serialize`` / ``deserialize`` are among Keras's names (not for callbacks), so they are
required, as functions, wherever Keras has them.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ["optimizers", "optimizers.schedules", "losses", "metrics", "initializers",
           "activations", "callbacks", "regularizers"]

# (module, name) -> why tinygrad_es does not provide it, and what to use instead.
NOT_PROVIDED = {
    ("optimizers", "legacy"):
        "Keras 3's keras.optimizers.legacy only raises ImportError (the Keras 2 optimizers); "
        "use the optimizers of tinygrad_es.optimizers",
    ("callbacks", "TensorBoard"):
        "writes TensorBoard event files and needs the tensorboard package; use CSVLogger for "
        "the numbers and tinygrad_es.viz.plots.plot_history(history) for the curves",
    ("callbacks", "OrbaxCheckpoint"):
        "saves through Orbax, a JAX checkpointing library; use ModelCheckpoint, or "
        "BackupAndRestore to resume an interrupted fit",
}

# The base class each family's classes derive from (in Keras and here).
BASES = {"optimizers": "Optimizer", "optimizers.schedules": "LearningRateSchedule",
         "losses": "Loss", "metrics": "Metric", "initializers": "Initializer",
         "callbacks": "Callback", "regularizers": "Regularizer"}


def _modules(keras, module):
    ref = keras
    for part in module.split("."):
        ref = getattr(ref, part)
    return ref, importlib.import_module(f"tinygrad_es.{module}")


def _public(mod) -> list[str]:
    return sorted(n for n in dir(mod) if not n.startswith("_"))


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.ismodule(obj):
        return "module"
    return "function" if callable(obj) else type(obj).__name__


@pytest.mark.parametrize("module", MODULES)
def test_every_keras_name_exists(keras, module):
    ref, ours = _modules(keras, module)
    missing = [n for n in _public(ref) if not hasattr(ours, n) and (module, n) not in NOT_PROVIDED]
    assert not missing, f"tinygrad_es.{module} lacks Keras's names: {', '.join(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_each_name_is_the_kind_keras_has(keras, module):
    ref, ours = _modules(keras, module)
    base = BASES.get(module)
    wrong = []
    for name in _public(ref):
        if not hasattr(ours, name):
            continue   # reported by test_every_keras_name_exists
        k_obj, o_obj = getattr(ref, name), getattr(ours, name)
        if _kind(k_obj) != _kind(o_obj):
            wrong.append(f"{name}: Keras has a {_kind(k_obj)}, tinygrad_es a {_kind(o_obj)}")
        elif (base and inspect.isclass(k_obj) and issubclass(k_obj, getattr(ref, base))
              and not issubclass(o_obj, getattr(ours, base))):
            wrong.append(f"{name}: Keras's is a {base}, ours is not")
    # Names that are one object in Keras (glorot_uniform is GlorotUniform) are one object here.
    groups: dict[int, list[str]] = {}
    for name in _public(ref):
        groups.setdefault(id(getattr(ref, name)), []).append(name)
    for names in groups.values():
        present = [n for n in names if hasattr(ours, n)]
        if len({id(getattr(ours, n)) for n in present}) > 1:
            wrong.append(f"{' / '.join(present)}: one object in Keras, several here")
    assert not wrong, f"tinygrad_es.{module}: " + "; ".join(wrong)


def test_the_allow_list_is_short_current_and_explained(keras):
    assert len(NOT_PROVIDED) <= 6
    for (module, name), reason in NOT_PROVIDED.items():
        ref, ours = _modules(keras, module)
        assert hasattr(ref, name), f"Keras no longer has {module}.{name}: drop it from the list"
        assert not hasattr(ours, name), f"tinygrad_es.{module}.{name} exists now: drop the entry"
        assert "use " in reason and len(reason) > 40, (module, name)


def test_keras_top_level_base_classes_are_the_modules_own(keras):
    """``class Linear(keras.Layer)``: Keras 3 puts the base classes at the top as well."""
    import tinygrad_es

    for name, module in [("Layer", "layers"), ("Loss", "losses"), ("Metric", "metrics"),
                         ("Optimizer", "optimizers"), ("Regularizer", "regularizers"),
                         ("Initializer", "initializers"), ("Model", "models"),
                         ("Sequential", "models")]:
        assert getattr(keras, name) is getattr(getattr(keras, module), name), name
        assert getattr(tinygrad_es, name) is getattr(getattr(tinygrad_es, module), name), name
        assert name in tinygrad_es.__all__, name


# ----- keras.ops, keras.random, keras.backend -----

# keras.ops has ~340 names; tinygrad_es.ops does the ones Keras programs use. The rest, by reason
# (a name leaves this list when it is done: the last test below fails until it is dropped).
_OPS_NOT_YET_BY_REASON = {
    "needs a new engine primitive with its own derivative (not written yet); compose from exp, "
    "log, sqrt, tanh or use numpy on ops.convert_to_numpy(x) where no gradient is needed":
        "sin cos tan arcsin arccos arctan arctan2 sinh cosh arcsinh arccosh arctanh erf erfc "
        "erfinv expm1 log1p cbrt exp2 i0 sinc logaddexp logaddexp2 hypot prod cumprod",
    "convolutions and pooling come as engine primitives with the layers (issue 12, section 3); "
    "use Dense layers until then":
        "conv conv_transpose depthwise_conv separable_conv max_pool average_pool "
        "adaptive_average_pool adaptive_max_pool unfold fold extract_sequences depth_to_space "
        "space_to_depth image",
    "linear-algebra decompositions and solvers have no backward yet; use numpy.linalg on "
    "ops.convert_to_numpy(x) (no gradient)":
        "cholesky cholesky_inverse det eig eigh inv lstsq lu_factor matrix_rank pinv qr slogdet "
        "logdet solve solve_triangular svd cdist kron cross inner vdot einsum correlate corrcoef",
    "tinygrad_es tensors are real: no complex numbers or spectral transforms; use numpy.fft on "
    "ops.convert_to_numpy(x)":
        "angle conj conjugate imag real view_as_complex view_as_real polar fft fft2 ifft2 rfft "
        "irfft stft istft bartlett blackman hamming hanning kaiser",
    "integer and bit operations with no gradient, unused by the tutorials tried; use numpy on "
    "ops.convert_to_numpy(x)":
        "bitwise_and bitwise_invert bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift "
        "bitwise_xor left_shift right_shift gcd lcm bincount digitize histogram searchsorted "
        "unique unravel_index isin floor_divide mod fmod ldexp nextafter signbit trunc heaviside",
    "NaN-aware reductions and order statistics are not done yet; use ops.sort / ops.top_k, or "
    "numpy's nan* functions on ops.convert_to_numpy(x)":
        "nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanpercentile "
        "nanprod nanquantile nanstd nansum nanvar median percentile quantile ptp nan_to_num "
        "argpartition isneginf isposinf isreal isclose allclose in_top_k",
    "control flow and tracing helpers of graph-compiling backends: eager Python does the same; "
    "use a Python loop, if, or indexing with ops.take / ops.where":
        "cond fori_loop while_loop scan associative_scan map switch vectorize vectorized_map "
        "custom_gradient jvp select slice slice_update scatter scatter_update segment_max "
        "segment_min segment_prod segment_sum",
    "fused layer and loss ops: use the layers (LayerNormalization, BatchNormalization) and the "
    "losses of tinygrad_es.losses":
        "batch_normalization layer_normalization rms_normalization binary_crossentropy "
        "categorical_crossentropy sparse_categorical_crossentropy ctc_loss ctc_decode "
        "dot_product_attention psnr",
    "array helpers not done yet; use ops.split, ops.concatenate, ops.stack, ops.reshape, "
    "indexing, or numpy on ops.convert_to_numpy(x)":
        "array_split dsplit hsplit vsplit dstack diag diagflat diagonal diff meshgrid pad roll "
        "rot90 vander trapezoid geomspace logspace average fabs fmax fmin rearrange "
        "saturate_cast deg2rad rad2deg view",
}
OPS_NOT_YET = {name: reason for reason, names in _OPS_NOT_YET_BY_REASON.items()
               for name in names.split()}


def test_every_keras_ops_name_exists_or_is_listed(keras):
    from tinygrad_es import ops

    missing = [n for n in _public(keras.ops) if not hasattr(ops, n) and n not in OPS_NOT_YET]
    assert not missing, f"tinygrad_es.ops lacks Keras's names: {', '.join(missing)}"
    wrong = [f"{n}: Keras has a {_kind(getattr(keras.ops, n))}, ours is a "
             f"{_kind(getattr(ops, n))}" for n in _public(keras.ops) if hasattr(ops, n)
             and _kind(getattr(keras.ops, n)) != _kind(getattr(ops, n))]
    assert not wrong, "; ".join(wrong)
    for sub in ("nn", "numpy", "linalg"):  # Keras's submodules: each of our names is Keras's too
        ours, ref = getattr(ops, sub), getattr(keras.ops, sub)
        extra = [n for n in getattr(ours, "__all__", []) if not hasattr(ref, n)]
        assert not extra, f"tinygrad_es.ops.{sub} has names keras.ops.{sub} lacks: {extra}"


def test_the_ops_allow_list_is_current_and_explained(keras):
    from tinygrad_es import ops

    done = [n for n in OPS_NOT_YET if hasattr(ops, n)]
    assert not done, f"tinygrad_es.ops has these now: drop them from OPS_NOT_YET: {done}"
    gone = [n for n in OPS_NOT_YET if not hasattr(keras.ops, n)]
    assert not gone, f"Keras no longer has these: drop them from OPS_NOT_YET: {gone}"
    assert all("use " in reason and len(reason) > 40 for reason in OPS_NOT_YET.values())
    assert len(OPS_NOT_YET) < len(_public(keras.ops)) * 0.65  # most of keras.ops stays done


@pytest.mark.parametrize("module", ["random", "backend"])
def test_keras_random_and_backend_names_exist(keras, module):
    ref, ours = _modules(keras, module)
    missing = [n for n in _public(ref) if not hasattr(ours, n)]
    assert not missing, f"tinygrad_es.{module} lacks Keras's names: {', '.join(missing)}"
    wrong = [n for n in _public(ref) if _kind(getattr(ref, n)) != _kind(getattr(ours, n))]
    assert not wrong, f"tinygrad_es.{module}: not the kind Keras has: {wrong}"
