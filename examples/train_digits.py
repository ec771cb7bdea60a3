"""Tune your own training loop: a plain PyTorch MLP on scikit-learn's 8x8 digits, trained with
the learning-rate schedule of one trial leased from schedsearch (CPU, about a second).

    schedsearch submit examples/external_study.json
    schedsearch agent digits-mlp -- python examples/train_digits.py   # one trial per run
    python examples/train_digits.py digits-mlp                        # alone: leases one itself

Only ``current_trial``, ``t.scheduler`` and ``t.report`` (and ``t.epoch_end``, which
reduce-on-plateau listens to) are schedsearch's; the rest is an ordinary training script.
"""

from __future__ import annotations

import argparse
import math

import torch
from sklearn.datasets import load_digits
from torch import nn

from schedsearch.client import current_trial


def digits(seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Train and validation tensors: 80% / 20% of the 1,797 digits, scaled to [0, 1]."""
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    cut = int(0.8 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def make_optimizer(params, settings: dict, lr: float) -> torch.optim.Optimizer:
    """The study's optimizer (``t.optimizer``), at the trial's base LR."""
    decay = settings.get("weight_decay", 0.0)
    if settings["name"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay)
    return torch.optim.SGD(
        params,
        lr=lr,
        momentum=settings.get("momentum", 0.9),
        nesterov=settings.get("nesterov", False),
        weight_decay=decay,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", help="lease a trial of it (when no agent ran this)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    train_x, train_y, val_x, val_y = digits()

    with current_trial(args.study) as t:
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        optimizer = make_optimizer(model.parameters(), t.optimizer, t.base_lr)
        steps_per_epoch = math.ceil(len(train_x) / t.batch_size)
        scheduler = t.scheduler(optimizer, t.epochs * steps_per_epoch, steps_per_epoch)
        loss_fn = nn.CrossEntropyLoss()
        for epoch in range(1, t.epochs + 1):
            model.train()
            for batch in torch.randperm(len(train_x)).split(t.batch_size):
                optimizer.zero_grad()
                loss_fn(model(train_x[batch]), train_y[batch]).backward()
                optimizer.step()
                scheduler.step()  # once per optimizer step
            model.eval()
            with torch.no_grad():
                logits = model(val_x)
            metrics = {
                "val_accuracy": (logits.argmax(1) == val_y).float().mean().item(),
                "val_loss": loss_fn(logits, val_y).item(),
            }
            value = metrics[t.metric]
            t.epoch_end(value)  # reduce-on-plateau steps on it; other families ignore it
            t.report(epoch, value)  # raises TrialPruned when the study's pruner says stop
            print(f"trial {t.number} epoch {epoch}: {t.metric} {value:.4f}", flush=True)
    print(f"trial {t.number} ({t.config['family']}, base LR {t.base_lr:.3g}): {t.state}")


if __name__ == "__main__":
    main()
