"""`holomind.NeuralNetwork` on Split-Digits: learns in sequence, forgets nothing, keeps state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from holomind import NeuralNetwork
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    return train_test_split(
        x.astype(np.float32), y.astype(np.int64), test_size=0.3, stratify=y, random_state=0
    )


ORDER = [3, 8, 0, 6, 2, 9, 1, 7, 5, 4]  # five experiences of two classes each


def experience(x: np.ndarray, y: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
    mine = np.isin(y, ORDER[2 * i : 2 * i + 2])
    return x[mine], y[mine]


def test_five_experiences_with_restarts_keep_every_experience(digits, tmp_path: Path) -> None:
    x_train, x_test, y_train, y_test = digits
    net = NeuralNetwork(path=tmp_path / "run", input_dim=64, num_classes=10)
    first = net.train(experience(x_train, y_train, 0), preserve_state=True)
    assert (first.experience, sorted(first.classes), first.memory) == (0, [3, 8], 200)
    first_test = np.isin(y_test, ORDER[:2])
    first_accuracy = []  # on the first experience's test digits, after each experience
    for i in range(1, 5):
        net = NeuralNetwork.load(tmp_path / "run")  # a restart between experiences
        report = net.resume_training(experience(x_train, y_train, i))
        assert report.experience == i and sorted(report.retention) == list(range(i + 1))
        pred = net.predict(x_test)
        assert pred.dtype == np.int64 and set(pred.tolist()) <= set(ORDER[: 2 * i + 2])
        first_accuracy.append(float((pred[first_test] == y_test[first_test]).mean()))
    final = NeuralNetwork.load(tmp_path / "run")
    assert final.experiences == 5 and final.classes == list(range(10))
    acc = float((final.predict(x_test) == y_test).mean())
    assert acc >= 0.97, acc  # no task label was given at any point
    # the first experience is still recognised after four more (no catastrophic forgetting)
    assert first_accuracy[-1] >= first_accuracy[0] - 0.02, first_accuracy
    tensor_pred = final.predict(torch.from_numpy(x_test))
    assert isinstance(tensor_pred, torch.Tensor) and tensor_pred.dtype == torch.int64
    # the exemplar memory stays within its budget, balanced over the classes
    _, labels = final.memory
    assert np.bincount(labels.numpy()).tolist() == [20] * 10


def test_learning_in_sequence_equals_learning_the_rest_at_once(digits, tmp_path: Path) -> None:
    x_train, x_test, y_train, _ = digits
    steps = NeuralNetwork(tmp_path / "steps", 64, 10, memory_size=0)
    once = NeuralNetwork(tmp_path / "once", 64, 10, memory_size=0)
    steps.train(experience(x_train, y_train, 0))
    once.train(experience(x_train, y_train, 0))
    for i in range(1, 5):
        steps.train(experience(x_train, y_train, i), preserve_state=False)
    rest = np.isin(y_train, ORDER[2:])
    once.train((x_train[rest], y_train[rest]), preserve_state=False)
    a, b = steps.predict_proba(x_test), once.predict_proba(x_test)
    assert torch.allclose(a, b, atol=1e-6)
    assert torch.equal(a.argmax(dim=1), b.argmax(dim=1))


def test_a_restart_gives_the_same_state_bit_for_bit(digits, tmp_path: Path) -> None:
    x_train, x_test, y_train, _ = digits
    net = NeuralNetwork(tmp_path / "run", 64, 10)
    net.train(experience(x_train, y_train, 0))
    net.resume_training(experience(x_train, y_train, 1))
    np.save(tmp_path / "x.npy", x_test)
    script = (
        "import sys, numpy; from holomind import NeuralNetwork;"
        "net = NeuralNetwork.load(sys.argv[1]);"
        "p = net.predict_proba(numpy.load(sys.argv[2])).numpy();"
        "sys.stdout.buffer.write(p.tobytes())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "run"), str(tmp_path / "x.npy")],
        capture_output=True,
        check=True,
    )
    assert done.stdout == net.predict_proba(x_test).numpy().tobytes()
    # not preserved: the folder keeps the state of the last preserved experience
    net.train(experience(x_train, y_train, 2), preserve_state=False)
    assert NeuralNetwork.load(tmp_path / "run").experiences == 2


def test_bad_input_is_a_clear_error(digits, tmp_path: Path) -> None:
    x_train, _, y_train, _ = digits
    x, y = experience(x_train, y_train, 0)
    net = NeuralNetwork(tmp_path / "run", 64, 10)
    with pytest.raises(InvalidInputError, match="nothing yet to resume"):
        net.resume_training((x, y))
    with pytest.raises(InvalidInputError, match="X must be float32, not float64"):
        net.train((x.astype(np.float64), y))
    with pytest.raises(InvalidInputError, match=r"y must be int64, not int32"):
        net.train((x, y.astype(np.int32)))
    with pytest.raises(InvalidInputError, match=r"X has shape \(10, 63\); expected \(N, 64\)"):
        net.train((x[:10, :63], y[:10]))
    with pytest.raises(InvalidInputError, match=r"y has shape \(9,\); expected \(10,\)"):
        net.train((x[:10], y[:9]))
    with pytest.raises(InvalidInputError, match="labels must lie in 0 … 9; got 3 … 12"):
        net.train((x[:2], np.array([3, 12])))
    with pytest.raises(InvalidInputError, match="NaN"):
        net.train((np.full((2, 64), np.nan, dtype=np.float32), y[:2]))
    with pytest.raises(InvalidInputError, match="data must be a pair"):
        net.train(x)
    with pytest.raises(InvalidInputError, match="learnt nothing yet"):
        net.predict(x)
    with pytest.raises(InvalidInputError, match="already holds a run"):
        NeuralNetwork(tmp_path / "run", 64, 10)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="is not empty and is not a run"):
        NeuralNetwork(tmp_path / "other", 64, 10)
    with pytest.raises(MissingFileError, match="is not a NeuralNetwork run"):
        NeuralNetwork.load(tmp_path / "other")
    net.train((x, y))
    router = tmp_path / "run" / "router.safetensors"
    router.write_bytes(router.read_bytes()[:-8])
    with pytest.raises(CorruptFileError, match="does not match its recorded checksum"):
        NeuralNetwork.load(tmp_path / "run")
