"""Quantus's values of our evaluation metrics, for tests/metrics.rs (run by hand; see README.md).

Input: the JSON that `cargo test --features ndarray,train --test metrics -- --ignored
export_for_quantus` writes ($QUANTUS_EXPORT, else the temp dir): the shipped MNIST net's weights,
20 held-out digits (the first two of each class), their logits, and our gradient, gradient x input and guided
backprop maps of every class. Output: tests/fixtures/quantus.json.

The net is rebuilt in PyTorch from those weights (its logits must match ours). Every metric runs
on one image at a time (Quantus's default normalisation divides by the largest value of the whole
batch; one image per call makes it per image, as our metrics are). Quantus gets *our* maps: as
`a_batch`, and, through `explain`, for the clean digit of any class (random logit asks for
another class). Only noisy copies (sensitivities, Lipschitz) are explained by PyTorch here:
autograd for the gradient and gradient x input, ReLU hooks for guided backprop; on a clean digit
PyTorch and burn may route a max-pool tie differently, on noisy copies there are no ties.
"""

import json
import os
import sys
import tempfile

import numpy as np
import quantus
import torch
from torch import nn

torch.set_num_threads(1)
# Quantus 0.6.0's `calculate_auc` calls `np.trapz`, which NumPy 2.4 removed; `trapezoid` is the
# same function under its new name.
if not hasattr(np, "trapz"):
    np.trapz = np.trapezoid
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCE = os.environ.get(
    "QUANTUS_EXPORT", os.path.join(tempfile.gettempdir(), "deep-inside-quantus.json")
)
OUT = os.path.join(ROOT, "tests", "fixtures", "quantus.json")

# Shared with tests/metrics.rs.
FEATURES_IN_STEP = 4
PATCH = 8
REGIONS = 100
SAMPLES = 50
RUNS = 1000
MONOTONICITY_STEP = 28
MONOTONICITY_SAMPLES = 10
SUBSET = 224
METHODS = ["gradient", "gradientInput", "guided"]

data = json.load(open(SOURCE))
images = np.array(data["images"], dtype=np.float32).reshape(-1, 1, 28, 28)
labels = np.array(data["labels"])
ours = {m: np.array(v, dtype=np.float64).reshape(len(labels), 10, 1, 28, 28) for m, v in data["maps"].items()}


def build():
    net = nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    layers = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    for layer, w in zip(layers, data["weights"]):
        weight = torch.tensor(w["weight"], dtype=torch.float32).reshape(w["shape"])
        if isinstance(layer, nn.Linear):
            weight = weight.T  # burn keeps [in, out]
        layer.weight.data = weight.contiguous()
        layer.bias.data = torch.tensor(w["bias"], dtype=torch.float32)
    return net.eval()


net = build()
with torch.no_grad():
    logits = net(torch.from_numpy(images)).numpy()
err = np.abs(logits - np.array(data["logits"]).reshape(logits.shape)).max()
assert err < 1e-4, f"the rebuilt net's logits differ from ours by {err}"

requested = []  # classes asked of `explain` for clean digits (random logit's other class)


def torch_map(model, x, targets, method):
    x = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    hooks = []
    if method == "guided":
        for m in model.modules():
            if isinstance(m, nn.ReLU):
                hooks.append(m.register_full_backward_hook(lambda _m, gi, _go: (gi[0].clamp(min=0),)))
    out = model(x)
    out[torch.arange(len(targets)), torch.as_tensor(targets)].sum().backward()
    for h in hooks:
        h.remove()
    g = x.grad.detach()
    if method == "gradientInput":
        g = g * x.detach()
    return g.numpy().astype(np.float64)


def explainer(method):
    def explain(model, inputs, targets, **kwargs):
        model = model.get_model() if hasattr(model, "get_model") else model
        inputs = np.asarray(inputs, dtype=np.float32).reshape(-1, 1, 28, 28)
        targets = np.asarray(targets).reshape(-1)
        out = []
        for x, t in zip(inputs, targets):
            same = [i for i in range(len(images)) if np.array_equal(x, images[i])]
            if same:
                requested.append(int(t))
                out.append(ours[method][same[0], t])
            else:
                out.append(torch_map(model, x[None], [t], method)[0])
        return np.stack(out)

    return explain


def one(metric, i, a, **kwargs):
    x, y = images[i:i + 1], labels[i:i + 1]
    return metric(model=net, x_batch=x, y_batch=y, a_batch=a[None].copy(), device="cpu", **kwargs)


quiet = dict(disable_warnings=True)
results = {}
agreement = {}
for method in METHODS:
    r = {k: [] for k in [
        "sparseness", "complexity", "effective_complexity", "pointing_game",
        "relevance_mass_accuracy", "relevance_rank_accuracy", "pixel_flipping_auc",
        "region_perturbation_auc", "completeness_holds", "completeness_holds_normalised",
        "completeness_difference", "random_logit_other", "random_logit", "max_sensitivity",
        "avg_sensitivity", "local_lipschitz_estimate", "faithfulness_correlation",
        "monotonicity_correlation"]}
    explain = explainer(method)
    worst = 0.0
    for i in range(len(labels)):
        y = int(labels[i])
        a = ours[method][i, y]
        # How far PyTorch's own map of the clean digit is from ours (max-pool ties), for the record.
        t = torch_map(net, images[i:i + 1], [y], method)[0]
        worst = max(worst, np.abs(t - a).max() / max(np.abs(a).max(), 1e-12))
        s = (images[i:i + 1] > 0.5).astype(np.float64)
        r["sparseness"] += one(quantus.Sparseness(**quiet), i, a)
        r["complexity"] += one(quantus.Complexity(**quiet), i, a)
        r["effective_complexity"] += [int(v) for v in one(quantus.EffectiveComplexity(**quiet), i, a)]
        r["pointing_game"] += [bool(v) for v in one(quantus.PointingGame(**quiet), i, a, s_batch=s)]
        r["relevance_mass_accuracy"] += one(quantus.RelevanceMassAccuracy(**quiet), i, a, s_batch=s)
        r["relevance_rank_accuracy"] += one(quantus.RelevanceRankAccuracy(**quiet), i, a, s_batch=s)
        r["pixel_flipping_auc"] += one(quantus.PixelFlipping(
            features_in_step=FEATURES_IN_STEP, perturb_baseline="black", return_auc_per_sample=True, **quiet), i, a)
        curve = one(quantus.RegionPerturbation(
            patch_size=PATCH, regions_evaluation=REGIONS, perturb_baseline="black", **quiet), i, a)[0]
        r["region_perturbation_auc"].append(float(quantus.helpers.utils.calculate_auc(np.array(curve))))
        r["completeness_holds"] += [bool(v) for v in one(quantus.Completeness(normalise=False, **quiet), i, a)]
        r["completeness_holds_normalised"] += [bool(v) for v in one(quantus.Completeness(**quiet), i, a)]
        with torch.no_grad():
            x = torch.from_numpy(images[i:i + 1])
            black = torch.full_like(x, float(x.min()))
            r["completeness_difference"].append(float(net(x)[0, y] - net(black)[0, y]))
        requested.clear()
        r["random_logit"] += [float(v) for v in one(
            quantus.RandomLogit(num_classes=10, seed=42, **quiet), i, a, explain_func=explain)]
        assert len(requested) == 1 and requested[0] != y, requested
        r["random_logit_other"].append(requested[0])
        np.random.seed(i)
        r["max_sensitivity"] += [float(v) for v in one(quantus.MaxSensitivity(
            nr_samples=SAMPLES, lower_bound=0.2, **quiet), i, a, explain_func=explain)]
        r["avg_sensitivity"] += [float(v) for v in one(quantus.AvgSensitivity(
            nr_samples=SAMPLES, lower_bound=0.2, **quiet), i, a, explain_func=explain)]
        r["local_lipschitz_estimate"] += [float(v) for v in one(quantus.LocalLipschitzEstimate(
            nr_samples=SAMPLES, perturb_std=0.1, **quiet), i, a, explain_func=explain)]
        r["faithfulness_correlation"] += [float(v) for v in one(quantus.FaithfulnessCorrelation(
            nr_runs=RUNS, subset_size=SUBSET, perturb_baseline="black", return_aggregate=False, **quiet), i, a)]
        r["monotonicity_correlation"] += [float(v) for v in one(quantus.MonotonicityCorrelation(
            nr_samples=MONOTONICITY_SAMPLES, features_in_step=MONOTONICITY_STEP, **quiet), i, a)]
        print(f"{method} digit {i} done", file=sys.stderr)
    results[method] = {k: [v if isinstance(v, (bool, int)) else float(v) for v in vs] for k, vs in r.items()}
    agreement[method] = float(worst)

out = {
    "quantus": quantus.__version__,
    "torch": torch.__version__,
    "numpy": np.__version__,
    "labels": labels.tolist(),
    "settings": dict(features_in_step=FEATURES_IN_STEP, patch_size=PATCH, regions_evaluation=REGIONS,
                     nr_samples=SAMPLES, nr_runs=RUNS, subset_size=SUBSET,
                     monotonicity_features_in_step=MONOTONICITY_STEP, monotonicity_nr_samples=MONOTONICITY_SAMPLES, lower_bound=0.2, perturb_std=0.1,
                     perturb_baseline="black", random_logit_seed=42, one_image_per_call=True),
    "pytorch_map_vs_ours_on_clean_digits": agreement,
    "methods": results,
}
with open(OUT, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for method, r in results.items():
    print(method, {k: round(float(np.mean(v)), 5) for k, v in r.items()})
