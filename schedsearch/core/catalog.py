"""The names a spec may use for datasets and models.

The engine owns how each is built (``engine.data``, ``engine.models``); the names live here so
that a spec is validated where it enters (CLI, HTTP) without loading torch. A test keeps the
engine's tables and these names equal.
"""

from __future__ import annotations

DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100")
IMAGE_FOLDER = "imagefolder:"
MODELS: tuple[str, ...] = ("cnn-small", "cnn-medium", "resnet8", "resnet20")


def dataset_names() -> list[str]:
    return [*DATASETS, f"{IMAGE_FOLDER}PATH"]


def check_dataset(name: str, stored: bool = False) -> str:
    """The name, if it is one we know; raises ValueError naming the known ones. An image
    folder's path must be relative and stay inside the data directory, lexically (no leading
    ``/`` or ``~``, no ``..``): a client names a folder of the workers' data, never a host path.
    (``stored``: a spec stored before that rule is read back; its worker refuses it.)"""
    if name in DATASETS:
        return name
    if name.startswith(IMAGE_FOLDER) and len(name) > len(IMAGE_FOLDER):
        path = name[len(IMAGE_FOLDER) :]
        parts = path.replace("\\", "/").split("/")
        if not stored and (path.startswith(("/", "~", "\\")) or ".." in parts or ":" in path):
            raise ValueError(
                f"{IMAGE_FOLDER}PATH takes a path relative to the workers' data directory, "
                "without '..' (not an absolute, '~' or drive path)"
            )
        return name
    raise ValueError(f"unknown dataset {name!r} (known: {', '.join(dataset_names())})")


def check_model(name: str) -> str:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return name
