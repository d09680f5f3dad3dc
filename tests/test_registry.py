"""One registry helper (tinygrad_es/utils/registry.py) behind the seven families' names."""

import pytest

from tinygrad_es import activations, initializers, layers, losses, metrics, optimizers, regularizers

# (our get, the kind in the message, a misspelt name, the name meant, Keras's family)
_FAMILIES = [
    (activations.get, "activation", "sigmod", "sigmoid", "activations"),
    (losses.get, "loss", "mean_squared_eror", "mean_squared_error", "losses"),
    (metrics.get, "metric", "precison", "precision", "metrics"),
    (optimizers.get, "optimizer", "adamm", "adam", "optimizers"),
    (initializers.get, "initializer", "glorot_unifrom", "glorot_uniform", "initializers"),
    (regularizers.get, "regularizer", "l2l", "l2", "regularizers"),
]


@pytest.mark.parametrize("get, kind, typo, meant, keras_family", _FAMILIES)
def test_every_family_suggests_the_name_keras_accepts(keras, get, kind, typo, meant, keras_family):
    keras_get = getattr(keras, keras_family).get
    with pytest.raises(ValueError):
        keras_get(typo)
    assert keras_get(meant) is not None  # the suggestion is a name Keras takes
    with pytest.raises(ValueError) as info:
        get(typo)
    message = str(info.value)
    assert message.startswith(f"Unknown {kind} {typo!r}. Did you mean {meant!r}? Valid names: ")
    listed = message.split("Valid names: ")[1].rstrip(".").split(", ")
    assert meant in listed or repr(meant) in listed  # the optimizers quote their names
    assert get(meant) is not None


def test_layers_and_initializers_share_the_saved_layout(keras):
    dense = layers.Dense(2, name="d")
    ours = layers.serialize(dense)
    theirs = keras.layers.serialize(keras.layers.Dense(2, name="d"))
    assert set(ours) - {"build_config"} == set(theirs) - {"build_config"}
    assert ours["class_name"] == theirs["class_name"] == "Dense"
    for family, obj in ((initializers, initializers.Zeros()), (regularizers, regularizers.L2())):
        saved = family.serialize(obj)
        assert set(saved) == {"module", "class_name", "config", "registered_name"}
        assert type(family.deserialize(saved)) is type(obj)
    with pytest.raises(ValueError, match="Unknown layer class 'Dens'. Did you mean 'Dense'"):
        layers.deserialize({"class_name": "Dens", "config": {}})
