"""Datasets as tensors on the training device, loaded once per process.

Trials are short and many, so every fixed cost per trial counts: a dataset is read, normalised
and moved to the device once, then every trial indexes into it. Augmentation (random crop with
reflect padding, horizontal flip) runs as batched tensor ops on the device; no DataLoader.

Names: ``digits`` (scikit-learn's bundled 8x8 digits, the offline default), ``mnist``,
``fashion-mnist``, ``cifar10``, ``cifar100`` (torchvision, downloaded into the settings'
``data_dir``) and ``imagefolder:PATH`` (one sub-folder of images per class); the names
themselves live in ``core.catalog``, so specs are checked without torch.
"""

from __future__ import annotations

import functools
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from schedsearch.core.catalog import IMAGE_FOLDER, check_dataset
from schedsearch.core.errors import DatasetError
from schedsearch.settings import Settings

VAL_CAP = 5000  # validation runs every epoch: a fixed subset keeps its cost bounded


@dataclass(frozen=True)
class Augment:
    """Per-batch augmentation: random crop after ``pad`` pixels of reflect padding, and flips."""

    pad: int = 0
    flip: bool = False

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        if self.flip:
            mask = torch.rand(n, device=x.device, generator=generator) < 0.5
            x = torch.where(mask[:, None, None, None], x.flip(-1), x)
        if self.pad:
            p = self.pad
            padded = F.pad(x, (p, p, p, p), mode="reflect")
            dy = torch.randint(0, 2 * p + 1, (n,), device=x.device, generator=generator)
            dx = torch.randint(0, 2 * p + 1, (n,), device=x.device, generator=generator)
            rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
            cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
            batch = torch.arange(n, device=x.device)[:, None, None, None]
            chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
            x = padded[batch, chans, rows, cols]
        return x


@dataclass(frozen=True)
class TensorData:
    """A dataset split three ways, already normalised and on its device."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    augment: Augment

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.train_x.shape[1:])  # type: ignore[return-value]

    @property
    def device(self) -> torch.device:
        return self.train_x.device


Raw = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]  # NCHW uint8/float


def _digits(root: Path, download: bool) -> Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images[:, None].astype(np.float32) / 16.0, bunch.target, None, None


def _torchvision(name: str, cls_name: str) -> Callable[[Path, bool], Raw]:
    """MNIST-style datasets through torchvision's own classes (idx files on disk)."""

    def load(root: Path, download: bool) -> Raw:
        import torchvision

        cls = getattr(torchvision.datasets, cls_name)
        splits = []
        for train in (True, False):
            try:
                ds = cls(str(root), train=train, download=False)
            except RuntimeError:
                if not download:
                    raise _absent(name, root) from None
                ds = _download(
                    functools.partial(cls, str(root), train=train, download=True), name, root
                )
            splits += [ds.data.numpy()[:, None], ds.targets.numpy()]
        return splits[0], splits[1], splits[2], splits[3]

    return load


def _cifar(
    name: str, folder: str, files: tuple[list[str], list[str]], label_key: bytes, cls_name: str
) -> Callable[[Path, bool], Raw]:
    """CIFAR's python pickles, read directly: torchvision only downloads them (its loader checks
    full-archive checksums, which small files written by tests cannot have)."""

    def load(root: Path, download: bool) -> Raw:
        base = root / folder
        if not all((base / f).exists() for f in files[0] + files[1]):
            if not download:
                raise _absent(name, root)
            import torchvision

            _download(
                lambda: getattr(torchvision.datasets, cls_name)(str(root), download=True),
                name,
                root,
            )
        out: list[np.ndarray] = []
        for names in files:
            xs, ys = [], []
            for file in names:
                with open(base / file, "rb") as handle:
                    entry = pickle.load(handle, encoding="bytes")
                xs.append(np.asarray(entry[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                ys.append(np.asarray(entry[label_key]))
            out += [np.concatenate(xs), np.concatenate(ys)]
        return out[0], out[1], out[2], out[3]

    return load


def _absent(name: str, root: Path) -> DatasetError:
    return DatasetError(f"dataset {name!r} is not in {root.resolve()} (set SCHEDSEARCH_DATA_DIR)")


def _download(fetch: Callable[[], object], name: str, root: Path) -> object:
    try:
        return fetch()
    except Exception as exc:  # network errors come in many types (URLError, OSError, HTTP...)
        raise DatasetError(
            f"dataset {name!r} is not in {root.resolve()} and could not be downloaded "
            f"({type(exc).__name__}); copy it there or set SCHEDSEARCH_DATA_DIR"
        ) from None


READ_SECONDS = 600.0  # an image folder that takes longer to read is refused, not waited on


def _inside(root: Path, path: Path) -> bool:
    """Whether ``path``, symlinks resolved, lies inside ``root`` (itself resolved)."""
    return path.resolve().is_relative_to(root)


def _image_folder(path: str) -> Callable[[Path, bool], Raw]:
    """One sub-folder per class under the data directory; images resized to the first image's
    size (at most 64 px). Only regular files inside the data directory are read (symlinks
    resolved: a FIFO would block the worker beyond SIGTERM, a link may point anywhere), within
    READ_SECONDS; errors name the folder as the spec does, never a host path."""
    name = f"imagefolder:{path}"

    def load(root: Path, download: bool) -> Raw:
        try:
            return read(root)
        except OSError as exc:  # permissions, a vanished file: without the host path
            reason = exc.strerror or type(exc).__name__
            raise DatasetError(f"{name} cannot be read ({reason})") from None

    def read(root: Path) -> Raw:
        from PIL import Image

        base = root.resolve()
        folder = base / path
        if not _inside(base, folder):
            raise DatasetError(f"{name} is outside the workers' data directory")
        classes = sorted(
            p
            for p in (folder.iterdir() if folder.is_dir() else [])
            if p.is_dir() and _inside(base, p)
        )
        if len(classes) < 2:
            raise DatasetError(f"{name} needs at least two class sub-folders")
        images, labels, size = [], [], None
        deadline = time.monotonic() + READ_SECONDS
        for label, class_dir in enumerate(classes):
            for file in sorted(class_dir.iterdir()):
                if time.monotonic() > deadline:
                    raise DatasetError(f"{name} took more than {READ_SECONDS:.0f} s to read")
                if not file.is_file() or not _inside(base, file):  # FIFOs, devices, escapes
                    continue
                try:
                    image = Image.open(file).convert("RGB")
                except OSError:
                    continue  # not an image: skip it, like torchvision's ImageFolder
                size = size or (min(image.width, 64), min(image.height, 64))
                images.append(np.asarray(image.resize(size)).transpose(2, 0, 1))
                labels.append(label)
        if len(images) < 2 * len(classes):
            raise DatasetError(f"{name} has too few images ({len(images)})")
        return np.stack(images), np.asarray(labels), None, None

    return load


_C10 = ([f"data_batch_{i}" for i in range(1, 6)], ["test_batch"])
LOADERS: dict[str, tuple[Callable[[Path, bool], Raw], Augment]] = {
    "digits": (_digits, Augment(pad=1)),
    "mnist": (_torchvision("mnist", "MNIST"), Augment(pad=2)),
    "fashion-mnist": (_torchvision("fashion-mnist", "FashionMNIST"), Augment(pad=2, flip=True)),
    "cifar10": (
        _cifar("cifar10", "cifar-10-batches-py", _C10, b"labels", "CIFAR10"),
        Augment(4, True),
    ),
    "cifar100": (
        _cifar("cifar100", "cifar-100-python", (["train"], ["test"]), b"fine_labels", "CIFAR100"),
        Augment(4, True),
    ),
}


def _split(n: int, seed: int, val_fraction: float, test_fraction: float) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    return [order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test]]


def prepare(name: str, raw: Raw, augment: Augment, device: torch.device, seed: int) -> TensorData:
    """Split (seeded), normalise with train statistics, move to the device once."""
    x, y, test_x, test_y = raw
    if test_x is None or test_y is None:  # no official test split: carve one, 20% each
        train, val, test = _split(len(x), seed, 0.2, 0.2)
        test_x, test_y = x[test], y[test]
    else:
        train, val, _ = _split(len(x), seed, 0.1, 0.0)
    train_x = torch.as_tensor(x[train], dtype=torch.float32)
    mean = train_x.mean(dim=(0, 2, 3), keepdim=True)
    std = train_x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)

    def put(images: np.ndarray) -> torch.Tensor:
        return ((torch.as_tensor(images, dtype=torch.float32) - mean) / std).to(device)

    def labels(values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(values), dtype=torch.long).to(device)

    classes = int(max(y.max(), test_y.max())) + 1
    return TensorData(
        name,
        put(x[train]),
        labels(y[train]),
        put(x[val][:VAL_CAP]),
        labels(y[val][:VAL_CAP]),
        put(test_x),
        labels(test_y),
        classes,
        augment,
    )


def with_label_noise(data: TensorData, share: float, seed: int) -> TensorData:
    """Symmetric label noise on the training split only: ``share`` of its labels replaced by a
    class drawn uniformly (it may draw the true one, as in the usual definition). Validation
    and test labels stay clean, so scores still measure the true task."""
    if share <= 0.0:
        return data
    rng = np.random.default_rng([seed, 0x4E015E])  # its own stream: the split stays the same
    labels = data.train_y.cpu().numpy().copy()
    noisy = rng.random(len(labels)) < share
    labels[noisy] = rng.integers(0, data.num_classes, int(noisy.sum()))
    train_y = torch.as_tensor(labels, dtype=torch.long).to(data.train_y.device)
    return replace(data, train_y=train_y)


_CACHE: dict[tuple[str, str, str, int, float], TensorData] = {}


def load_dataset(
    name: str,
    device: torch.device | str = "cpu",
    seed: int = 0,
    download: bool = True,
    root: Path | None = None,
    label_noise: float = 0.0,
) -> TensorData:
    """The dataset on ``device``, split by ``seed``; cached for the life of the process.
    ``root`` is where downloads go (default: the settings' ``data_dir``); ``label_noise`` see
    ``with_label_noise``."""
    device = torch.device(device)
    root = (root or Settings().data_dir).expanduser()
    key = (name, str(root.resolve()), str(device), seed, label_noise)
    if key not in _CACHE:
        check_dataset(name)
        if name.startswith(IMAGE_FOLDER):
            loader, augment = _image_folder(name.split(":", 1)[1]), Augment(pad=4, flip=True)
        else:
            loader, augment = LOADERS[name]
        raw = loader(root, download)
        clean = prepare(name, raw, augment, device, seed)
        _CACHE[key] = with_label_noise(clean, label_noise, seed)
    return _CACHE[key]
