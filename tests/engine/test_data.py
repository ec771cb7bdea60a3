"""Datasets from real on-disk formats written here (MNIST idx, CIFAR pickles, PNG folders),
loaded through the real code; seeded splits; augmentation as tensor ops."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from schedsearch.core.errors import DatasetError
from schedsearch.engine.data import Augment, load_dataset, with_label_noise


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """Where ``load_dataset`` looks without ``root=``: the settings' ``data_dir``."""
    monkeypatch.setenv("SCHEDSEARCH_DATA_DIR", str(tmp_path))
    return tmp_path


def write_idx(folder: Path, prefix: str, labels: np.ndarray) -> None:
    """MNIST's idx format: big-endian magic and sizes, then uint8 pixels / labels.
    Each image's pixels all equal 20 x its label, so content can be traced through the loader."""
    folder.mkdir(parents=True, exist_ok=True)
    images = np.repeat(labels.astype(np.uint8)[:, None, None] * 20, 28, 1).repeat(28, 2)
    with open(folder / f"{prefix}-images-idx3-ubyte", "wb") as handle:
        handle.write(struct.pack(">IIII", 2051, len(labels), 28, 28) + images.tobytes())
    with open(folder / f"{prefix}-labels-idx1-ubyte", "wb") as handle:
        handle.write(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


def write_cifar_batch(path: Path, labels: np.ndarray, label_key: bytes) -> None:
    """CIFAR's python pickle: ``data`` N x 3072 (channel-major), channel c of an image = 10y+3c."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (labels[:, None] * 10 + np.arange(3)[None, :] * 3).astype(np.uint8)
    data = np.repeat(pixels[:, :, None], 1024, axis=2).reshape(len(labels), 3072)
    with open(path, "wb") as handle:
        pickle.dump({b"data": data, label_key: labels.tolist(), b"batch_label": b"x"}, handle)


def assert_content_follows_labels(x: torch.Tensor, y: torch.Tensor) -> None:
    """Images were written with intensity growing with the label: it must survive loading."""
    means = x.mean(dim=(1, 2, 3))
    order = torch.argsort(y, stable=True)
    assert torch.all(means[order][1:] >= means[order][:-1] - 1e-5)
    for label in y.unique():  # one intensity per label
        assert means[y == label].std(unbiased=False) < 1e-4 if (y == label).sum() > 1 else True


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")]
)
def test_mnist_idx_files(data_dir: Path, name: str, folder: str) -> None:
    rng = np.random.default_rng(0)
    train_labels, test_labels = rng.integers(0, 10, 60), rng.integers(0, 10, 20)
    write_idx(data_dir / folder / "raw", "train", train_labels)
    write_idx(data_dir / folder / "raw", "t10k", test_labels)
    data = load_dataset(name, "cpu", seed=0, download=False)
    assert data.shape == (1, 28, 28) and data.num_classes == 10
    assert (len(data.train_x), len(data.val_x), len(data.test_x)) == (54, 6, 20)
    assert sorted(torch.cat([data.train_y, data.val_y]).tolist()) == sorted(train_labels.tolist())
    assert data.test_y.tolist() == test_labels.tolist()  # the official test split, in order
    assert abs(data.train_x.mean().item()) < 1e-4  # normalised with train statistics
    assert_content_follows_labels(data.train_x, data.train_y)
    assert_content_follows_labels(data.test_x, data.test_y)


def test_root_wins_over_the_settings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SCHEDSEARCH_DATA_DIR", str(tmp_path / "elsewhere"))
    labels = np.arange(20) % 10
    write_idx(tmp_path / "given" / "MNIST" / "raw", "train", labels)
    write_idx(tmp_path / "given" / "MNIST" / "raw", "t10k", labels[:10])
    data = load_dataset("mnist", "cpu", seed=0, download=False, root=tmp_path / "given")
    assert len(data.train_x) + len(data.val_x) == 20 and data.test_y.tolist() == list(range(10))
    with pytest.raises(DatasetError, match="elsewhere"):  # without root: the settings' folder
        load_dataset("mnist", "cpu", seed=0, download=False)


@pytest.mark.parametrize(
    ("name", "folder", "files", "key", "classes"),
    [
        ("cifar10", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], b"labels", 10),
        ("cifar100", "cifar-100-python", ["train"], b"fine_labels", 100),
    ],
)
def test_cifar_pickles(data_dir: Path, name, folder, files, key, classes) -> None:
    rng = np.random.default_rng(1)
    labels = []
    for file in files:
        batch = rng.integers(0, classes, 8)
        batch[0] = classes - 1  # the largest class appears, so num_classes can be read off
        write_cifar_batch(data_dir / folder / file, batch, key)
        labels += batch.tolist()
    test = rng.integers(0, classes, 6)
    write_cifar_batch(
        data_dir / folder / ("test_batch" if name == "cifar10" else "test"), test, key
    )
    data = load_dataset(name, "cpu", seed=0, download=False)
    assert data.shape == (3, 32, 32) and data.num_classes == classes
    assert len(data.train_x) + len(data.val_x) == len(labels) and len(data.test_x) == 6
    # Channel-major reshape: every channel of an image is one constant colour.
    assert data.train_x.std(dim=(2, 3)).max() < 1e-4
    assert data.augment == Augment(pad=4, flip=True)


def test_image_folder_of_pngs(tmp_path: Path) -> None:
    for cls, colour in [("cat", (200, 30, 30)), ("dog", (30, 30, 200))]:
        (tmp_path / "pets" / cls).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (12, 10), colour).save(tmp_path / "pets" / cls / f"{i}.png")
        (tmp_path / "pets" / cls / "notes.txt").write_text("not an image")
    data = load_dataset("imagefolder:pets", "cpu", seed=3, root=tmp_path)
    assert data.shape == (3, 10, 12) and data.num_classes == 2
    assert len(data.train_x) + len(data.val_x) + len(data.test_x) == 12
    red = data.train_x[:, 0].mean(dim=(1, 2)) > data.train_x[:, 2].mean(dim=(1, 2))
    assert red.tolist() == (data.train_y == 0).tolist()  # cats are red, dogs blue


def test_image_folder_without_classes_is_refused(tmp_path: Path) -> None:
    (tmp_path / "some" / "only").mkdir(parents=True)
    with pytest.raises(DatasetError, match="at least two class sub-folders"):
        load_dataset("imagefolder:some", "cpu", root=tmp_path)


def _pets(folder: Path) -> None:
    for cls, colour in [("cat", (200, 30, 30)), ("dog", (30, 30, 200))]:
        (folder / cls).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (8, 8), colour).save(folder / cls / f"{i}.png")


def test_image_folder_stays_inside_the_data_directory(tmp_path: Path) -> None:
    """Hardening item 9: a link out of the data directory is refused at load time (the spec
    refuses '..' and absolute paths lexically), and the error names no host path."""
    outside, data = tmp_path / "outside", tmp_path / "data"
    _pets(outside / "pets")
    data.mkdir()
    (data / "escape").symlink_to(outside / "pets")
    with pytest.raises(DatasetError) as caught:
        load_dataset("imagefolder:escape", "cpu", root=data)
    assert str(caught.value) == "imagefolder:escape is outside the workers' data directory"
    assert str(tmp_path) not in str(caught.value)


def test_image_folder_reads_regular_files_only(tmp_path: Path) -> None:
    """A FIFO among the images would block the worker for ever: it is skipped, and so is a
    file linked from outside the data directory."""
    _pets(tmp_path / "pets")
    os.mkfifo(tmp_path / "pets" / "cat" / "blocking.png")
    (tmp_path / "secret.png").write_bytes((tmp_path / "pets" / "dog" / "0.png").read_bytes())
    (tmp_path / "pets" / "dog" / "leak.png").symlink_to(tmp_path.parent / "nowhere.png")
    data = load_dataset("imagefolder:pets", "cpu", seed=1, root=tmp_path)
    assert len(data.train_x) + len(data.val_x) + len(data.test_x) == 8


@pytest.mark.parametrize("name", ["mnist", "cifar10", "cifar100", "fashion-mnist"])
def test_absent_dataset_offline_is_one_readable_error(data_dir: Path, name: str) -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, "cpu", download=False)
    message = str(caught.value)
    assert "\n" not in message and repr(name) in message and str(data_dir) in message


def test_absent_dataset_with_download_and_no_network(data_dir: Path) -> None:
    with pytest.raises(DatasetError, match="could not be downloaded") as caught:
        load_dataset("cifar10", "cpu", download=True)
    assert "\n" not in str(caught.value)


def test_digits_split_is_seeded_and_cached() -> None:
    a, b = load_dataset("digits", "cpu", seed=5), load_dataset("digits", "cpu", seed=5)
    assert a is b  # loaded once per process
    other = load_dataset("digits", "cpu", seed=6)
    assert not torch.equal(a.val_y, other.val_y)
    assert (len(a.train_x), len(a.val_x), len(a.test_x)) == (1079, 359, 359)  # 1797: 60/20/20
    assert a.shape == (1, 8, 8) and a.num_classes == 10


def test_flip_is_a_mirror_image_or_the_original() -> None:
    x = torch.randn(64, 3, 5, 7)
    out = Augment(flip=True)(x, torch.Generator().manual_seed(0))
    same = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(-1)).flatten(1).all(1)
    assert torch.all(same | mirrored) and same.any() and mirrored.any()


def test_crop_is_a_window_of_the_reflect_padded_image() -> None:
    x = torch.randn(32, 2, 6, 6)
    out = Augment(pad=2)(x, torch.Generator().manual_seed(1))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="reflect")
    offsets = set()
    for i in range(len(x)):
        hits = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if torch.equal(out[i], padded[i, :, dy : dy + 6, dx : dx + 6])
        ]
        assert hits, f"image {i} is not a crop"
        offsets.add(hits[0])
    assert len(offsets) > 5  # the crops really move


# --- label noise: the training labels only ----------------------------------------------------


def test_label_noise_changes_only_training_labels() -> None:
    clean = load_dataset("digits", "cpu", seed=11)
    clean_y = clean.train_y.clone()
    noisy = load_dataset("digits", "cpu", seed=11, label_noise=0.4)
    assert noisy is not clean
    assert torch.equal(noisy.train_x, clean.train_x)  # same images, same split, same order
    for split in ("val_x", "val_y", "test_x", "test_y"):  # scores still measure the true task
        assert torch.equal(getattr(noisy, split), getattr(clean, split)), split
    assert (noisy.num_classes, noisy.augment, noisy.name) == (
        clean.num_classes,
        clean.augment,
        clean.name,
    )
    assert torch.equal(clean.train_y, clean_y)  # the clean copy was not written over
    assert noisy.train_y.dtype == torch.long and noisy.train_y.shape == clean.train_y.shape
    assert int(noisy.train_y.min()) >= 0 and int(noisy.train_y.max()) < clean.num_classes
    # share x (1 - 1/classes) of them differ: a uniform draw hits the true class 1 time in 10
    differ = (noisy.train_y != clean.train_y).float().mean().item()
    assert abs(differ - 0.4 * (1 - 1 / 10)) < 0.05, differ
    # the drawn labels are spread over the classes, not one class repeated
    changed = noisy.train_y[noisy.train_y != clean.train_y]
    assert len(changed.unique()) == 10


@pytest.mark.parametrize("share", [0.1, 0.8])
def test_label_noise_share_sets_how_many_labels_differ(share: float) -> None:
    clean = load_dataset("digits", "cpu", seed=12)
    noisy = with_label_noise(clean, share, seed=12)
    differ = (noisy.train_y != clean.train_y).float().mean().item()
    assert abs(differ - share * 0.9) < 0.05, differ
    assert torch.equal(noisy.val_y, clean.val_y) and torch.equal(noisy.test_y, clean.test_y)


def test_label_noise_is_deterministic_per_seed_and_differs_between_seeds() -> None:
    clean = load_dataset("digits", "cpu", seed=13)
    once, again = with_label_noise(clean, 0.4, seed=13), with_label_noise(clean, 0.4, seed=13)
    assert torch.equal(once.train_y, again.train_y)
    loaded = load_dataset("digits", "cpu", seed=13, label_noise=0.4)
    assert torch.equal(loaded.train_y, once.train_y)
    other = with_label_noise(clean, 0.4, seed=14)
    assert not torch.equal(other.train_y, once.train_y)
    assert torch.equal(other.train_x, once.train_x)  # only the labels drawn differ
    assert with_label_noise(clean, 0.0, seed=13) is clean  # no noise: the data itself


def test_the_cache_keeps_clean_and_noisy_data_apart() -> None:
    clean = load_dataset("digits", "cpu", seed=15)
    noisy = load_dataset("digits", "cpu", seed=15, label_noise=0.4)
    noisier = load_dataset("digits", "cpu", seed=15, label_noise=0.6)
    assert load_dataset("digits", "cpu", seed=15) is clean
    assert load_dataset("digits", "cpu", seed=15, label_noise=0.4) is noisy
    assert load_dataset("digits", "cpu", seed=15, label_noise=0.0) is clean
    assert len({id(clean), id(noisy), id(noisier)}) == 3
    assert not torch.equal(noisy.train_y, clean.train_y)
    assert not torch.equal(noisier.train_y, noisy.train_y)
    # asking for the noisy copy first does not make the clean one noisy
    first_noisy = load_dataset("digits", "cpu", seed=16, label_noise=0.4)
    then_clean = load_dataset("digits", "cpu", seed=16)
    assert not torch.equal(first_noisy.train_y, then_clean.train_y)
    assert torch.equal(first_noisy.val_y, then_clean.val_y)
    from sklearn.datasets import load_digits

    every = torch.cat([then_clean.train_y, then_clean.val_y, then_clean.test_y])
    assert sorted(every.tolist()) == sorted(load_digits().target.tolist())  # truly clean
