"""The built-in data sets are scikit-learn's arrays, without the download or the dependency."""

import numpy as np
import pytest

from tinygrad_es.datasets import load_digits, load_iris

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.mark.parametrize("name", ["iris", "digits"])
def test_same_arrays_as_scikit_learn(name):
    ours = {"iris": load_iris, "digits": load_digits}[name]()
    theirs = getattr(sklearn_datasets, f"load_{name}")()
    for key in ("data", "target", "target_names", "feature_names"):
        np.testing.assert_array_equal(np.asarray(ours[key]), np.asarray(theirs[key]), err_msg=key)
        assert np.asarray(ours[key]).dtype.kind == np.asarray(theirs[key]).dtype.kind, key
    if name == "digits":
        np.testing.assert_array_equal(ours.images, theirs.images)


@pytest.mark.parametrize("name", ["iris", "digits"])
def test_return_X_y(name):
    loader = {"iris": load_iris, "digits": load_digits}[name]
    x, y = loader(return_X_y=True)
    xs, ys = getattr(sklearn_datasets, f"load_{name}")(return_X_y=True)
    np.testing.assert_array_equal(x, xs)
    np.testing.assert_array_equal(y, ys)


def test_digits_n_class_matches_scikit_learn():
    x, y = load_digits(n_class=3, return_X_y=True)
    xs, ys = sklearn_datasets.load_digits(n_class=3, return_X_y=True)
    np.testing.assert_array_equal(x, xs)
    np.testing.assert_array_equal(y, ys)


def test_attribute_access_and_missing_key():
    iris = load_iris()
    assert iris.data is iris["data"]
    with pytest.raises(AttributeError):
        iris.no_such_key
