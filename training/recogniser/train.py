"""Train the acta field recogniser (``acta-rec.onnx``) on synthetic crops, on one CPU thread.

    .venv/bin/pip install -e '.[train]'          # torch (CPU) and onnx, training only
    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python training/recogniser/train.py \
        [--steps 3000] [--out src/veedor/read/models/acta-rec.onnx]

Everything is seeded: the same command gives the same data and, on one thread, the same
weights. The data is generated in memory (``synth.py``), never written to the repository.
See ``README.md`` here and ``docs/model-card-acta-rec.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth

from veedor.read.print.recognise import HEIGHT, prepare

ROOT = Path(__file__).resolve().parents[2]
VERSION = "2"  # 2: trained with crops of the tuning half of the real actas


def charset() -> str:
    letters = sorted({c for w in synth.digit_words() for c in w})
    return "0123456789" + "".join(letters) + ", "


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Net(nn.Module):
    """Four conv layers (height 32 → 4, width ÷ 4), two 1-D convs along the line, CTC head."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv(1, 16),
            nn.MaxPool2d(2),  # 16 × W/2
            *_conv(16, 32),
            nn.MaxPool2d(2),  # 8 × W/4
            *_conv(32, 48),
            nn.MaxPool2d((2, 1)),  # 4 × W/4
            *_conv(48, 64),
        )
        self.line = nn.Sequential(
            nn.Conv1d(64 * (HEIGHT // 8), 128, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv1d(128, 128, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Conv1d(128, classes + 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.body(x)  # N × 64 × 4 × T
        n, c, h, t = f.shape
        return self.line(f.reshape(n, c * h, t)).permute(0, 2, 1)  # N × T × classes+1 (logits)


class Exported(nn.Module):
    def __init__(self, net: Net) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=2)


def batch(
    pool: list[synth.Sample],
    rng: np.random.Generator,
    size: int,
    split: str,
    held_kind: str | None = None,
    clean: bool = False,
    real: list[synth.Sample] | None = None,
    real_share: float = 0.0,
) -> tuple[torch.Tensor, list[str]]:
    picks = [
        real[int(rng.integers(0, len(real)))] if real and rng.random() < real_share else pool[int(i)]
        for i in rng.integers(0, len(pool), size)
    ]
    images = [prepare(synth.degrade(s, rng, split, held_kind, clean)) for s in picks]
    # Each crop at a random offset in the batch: paper on its left as well as on its right,
    # so that the left border is no anchor (a first run learnt to emit the first glyph at
    # the first step, and lost it whenever a crop had a margin).
    shifts = [int(rng.integers(0, 7)) * 4 if not clean else 0 for _ in images]
    width = max(im.shape[1] + dx for im, dx in zip(images, shifts, strict=True))
    x = np.zeros((len(images), 1, HEIGHT, width), np.float32)
    for k, (im, dx) in enumerate(zip(images, shifts, strict=True)):
        x[k, 0, :, dx : dx + im.shape[1]] = im
    return torch.from_numpy(x), [s.text for s in picks]


def greedy(logits: torch.Tensor, chars: str) -> list[str]:
    out = []
    for row in logits.argmax(dim=2).tolist():
        text, prev = [], 0
        for k in row:
            if k != prev and k != 0:
                text.append(chars[k - 1])
            prev = k
        out.append("".join(text).strip())
    return out


def fixed_set(
    pool: list[synth.Sample], seed: int, n: int, split: str
) -> list[tuple[torch.Tensor, list[str]]]:
    rng = np.random.default_rng(seed)
    return [batch(pool, rng, 25, split) for _ in range(n // 25)]


def accuracy(net: Net, batches: list[tuple[torch.Tensor, list[str]]], chars: str) -> float:
    net.eval()
    right = total = 0
    with torch.no_grad():
        for x, texts in batches:
            for got, want in zip(greedy(net(x), chars), texts, strict=True):
                right += got == want
                total += 1
    net.train()
    return right / max(total, 1)


def export(net: Net, chars: str, path: Path, info: dict[str, object]) -> None:
    import onnx

    net.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 1, HEIGHT, 64)
    torch.onnx.export(
        Exported(net),
        (dummy,),
        str(path),
        dynamo=False,
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "n", 3: "width"}, "probs": {0: "n", 1: "steps"}},
        opset_version=17,
    )
    model = onnx.load(str(path))
    for key, value in {"charset": chars, "version": VERSION, "training": json.dumps(info)}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--actas", type=int, default=120, help="rendered actas in the training pool")
    parser.add_argument("--texts", type=int, default=8000, help="re-rendered field strings in the pool")
    parser.add_argument(
        "--real-share",
        type=float,
        default=0.3,
        help="share of each batch cut from the tuning half of the real actas (0: synthetic only)",
    )
    parser.add_argument(
        "--summary-weight",
        type=int,
        default=0,
        help="also cut the real actas' summary totals, each this many times (tried at 4: docs/ocr.md)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "src/veedor/read/models/acta-rec.onnx")
    parser.add_argument("--time-it", action="store_true", help="time 20 steps and stop")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    torch.manual_seed(args.seed)
    chars = charset()
    index = {c: i + 1 for i, c in enumerate(chars)}
    t0 = time.perf_counter()
    pool = synth.make_pool(args.seed, args.actas, args.texts)
    tune_pool = synth.make_pool(args.seed + 1000, max(4, args.actas // 10), args.texts // 10)
    tune = fixed_set(tune_pool, args.seed + 1, 500, "train")
    # Only the tuning half of the real actas; the held-back half is for the report alone.
    real = synth.real_samples("tune", args.summary_weight) if args.real_share > 0 else []
    print(
        f"pool {len(pool)} crops, {len(real)} real, tuning {len(tune) * 25} ({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    net = Net(len(chars))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=args.steps, pct_start=0.1)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    rng = np.random.default_rng(args.seed)
    best, best_state, start, log = -1.0, None, time.perf_counter(), []
    for step in range(1, args.steps + 1):
        # Digits and words in every batch: batches of one field each made the batch-norm
        # statistics differ between the fields in training but not in use (a second run
        # read "0" as "9" on real actas with a training loss of 0.07 on digits).
        x, texts = batch(
            pool, rng, 24, "train", clean=rng.random() < 0.1, real=real, real_share=args.real_share
        )
        logp = net(x).log_softmax(2).permute(1, 0, 2)  # T × N × C
        targets = torch.tensor([index[c] for t in texts for c in t], dtype=torch.long)
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        steps = torch.full((len(texts),), logp.shape[0], dtype=torch.long)
        loss = ctc(logp, targets, steps, lengths)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
        if args.time_it and step == 20:
            print(f"{(time.perf_counter() - start) / 20 * 1000:.0f} ms/step")
            return 0
        if step % 250 == 0 or step == args.steps:
            acc = accuracy(net, tune, chars)
            elapsed = time.perf_counter() - start
            log.append(
                {
                    "step": step,
                    "loss": round(float(loss.detach()), 4),
                    "tune": round(acc, 4),
                    "s": round(elapsed),
                }
            )
            print(json.dumps(log[-1]), flush=True)
            if acc >= best:
                best, best_state = acc, {k: v.clone() for k, v in net.state_dict().items()}
    assert best_state is not None
    net.load_state_dict(best_state)
    info = {
        "seed": args.seed,
        "steps": args.steps,
        "pool": len(pool),
        "real_crops": len(real),
        "real_share": args.real_share,
        "summary_weight": args.summary_weight,
        "tune_accuracy": best,
        "train_seconds": round(time.perf_counter() - start),
        "torch": torch.__version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), args.out.with_suffix(".pt"))  # for inspection; not shipped
    export(net, chars, args.out, info)
    print(f"best tuning accuracy {best:.4f}; wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
