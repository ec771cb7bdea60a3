"""A small family of CNNs sized by the input shape and the number of classes.

Every net is conv-BN-ReLU blocks that halve the resolution while it is above 4 px, then global
average pooling and a linear head, so one definition fits 8x8 digits and 32x32 CIFAR alike.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from schedsearch.core.catalog import check_model


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class PlainCNN(nn.Module):
    """``widths[i]`` channels in stage i, ``depth`` convs per stage, pooling between stages."""

    def __init__(
        self, shape: tuple[int, int, int], classes: int, widths: tuple[int, ...], depth: int = 1
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, size = shape[0], min(shape[1:])
        for width in widths:
            for _ in range(depth):
                layers += _conv(c, width)
                c = width
            if size > 4:
                layers.append(nn.MaxPool2d(2))
                size //= 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    """He et al.'s basic residual block, with a 1x1 projection when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class ResNet(nn.Module):
    """CIFAR-style ResNet (6n+2 layers): three stages of ``n`` blocks at 16, 32, 64 channels."""

    def __init__(self, shape: tuple[int, int, int], classes: int, n: int) -> None:
        super().__init__()
        layers: list[nn.Module] = _conv(shape[0], 16)
        c, size = 16, min(shape[1:])
        for stage, width in enumerate((16, 32, 64)):
            for block in range(n):
                stride = 2 if stage and block == 0 and size > 4 else 1
                size //= stride
                layers.append(BasicBlock(c, width, stride))
                c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


MODELS: dict[str, Callable[[tuple[int, int, int], int], nn.Module]] = {
    "cnn-small": lambda shape, classes: PlainCNN(shape, classes, (16, 32)),
    "cnn-medium": lambda shape, classes: PlainCNN(shape, classes, (32, 64, 128), depth=2),
    "resnet8": lambda shape, classes: ResNet(shape, classes, 1),
    "resnet20": lambda shape, classes: ResNet(shape, classes, 3),
}


def build_model(name: str, shape: tuple[int, int, int], classes: int) -> nn.Module:
    return MODELS[check_model(name)](shape, classes)
