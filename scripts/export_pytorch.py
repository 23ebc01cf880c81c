"""Export a PyTorch ``nn.Sequential`` CNN to one ``.safetensors`` file that deep-inside reads.

One-liner (MODEL.pt is a whole pickled module, saved with ``torch.save(model, path)``):

    python scripts/export_pytorch.py MODEL.pt OUT.safetensors --input-shape 1 28 28 \
        [--mean 0.1307 --std 0.3081] [--classes zero one two ...]

From Python: ``export(model, "out.safetensors", input_shape=(1, 28, 28), mean=None, std=None,
class_names=None)``. Needs only ``torch`` and ``safetensors`` (``pip install torch safetensors``).

File layout (safetensors: 8-byte little-endian header length, JSON header, raw data):

* Nested ``nn.Sequential``s are flattened into one list of leaf layers, in order; ``nn.Identity``
  is dropped. Layer ``i`` of that list stores its tensors as ``"{i}.weight"``, ``"{i}.bias"``
  (Conv2d, Linear) and ``"{i}.weight"``, ``"{i}.bias"``, ``"{i}.running_mean"``,
  ``"{i}.running_var"`` (BatchNorm1d/2d), float32, in PyTorch's layouts (Linear ``[out, in]``,
  Conv2d ``[out, in, kh, kw]``).
* Metadata (string values; lists and dicts JSON-encoded): ``format`` =
  ``"deep-inside/sequential-v1"``, ``input_shape`` (``[C, H, W]``), ``layers`` (one dict per layer:
  ``type`` = the torch class name plus its hyper-parameters, spatial values as 2-element lists),
  optionally ``normalization`` (``{"mean": [...], "std": [...]}`` per channel: the model is applied
  to ``(x - mean) / std`` of pixels ``x`` in [0, 1]) and ``class_names`` (list of strings).

Supported layers: Conv2d (groups=1, zero padding), Linear, ReLU, MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d (output 1x1), BatchNorm2d, BatchNorm1d, Flatten (start_dim=1, end_dim=-1),
Dropout, and Softmax/LogSoftmax as the last layer only. Anything else is refused with a ValueError
that names the module's path and type.
"""

import argparse
import json
import sys

import torch
from torch import nn

FORMAT = "deep-inside/sequential-v1"


def _pair(value, what, path):
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [int(value[0]), int(value[1])]
    raise ValueError(f"layer {path} ({what}): expected an int or a pair of ints, got {value!r}")


def _flatten(module, path):
    """(path, module) for each leaf of (nested) nn.Sequentials, in order, without nn.Identity."""
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from _flatten(child, f"{path}.{name}" if path else name)
    elif isinstance(module, nn.Identity):
        return
    else:
        yield path or "<root>", module


def _conv_padding(conv, path):
    padding = conv.padding
    if isinstance(padding, str):
        if padding == "valid":
            return [0, 0]
        if padding == "same":
            pads = []
            for k, d in zip(conv.kernel_size, conv.dilation):
                total = d * (k - 1)
                if total % 2:
                    raise ValueError(
                        f"layer {path} (Conv2d): padding='same' with an even effective kernel pads "
                        "unevenly, which this format cannot express"
                    )
                pads.append(total // 2)
            return pads
        raise ValueError(f"layer {path} (Conv2d): unsupported padding {padding!r}")
    return _pair(padding, "Conv2d padding", path)


def _f32(tensor):
    return tensor.detach().to(device="cpu", dtype=torch.float32).contiguous().clone()


def _describe(path, module, is_last):
    """(layer dict, {param name: tensor}) for one leaf layer; ValueError if unsupported."""
    kind = type(module).__name__
    where = f"{path} ({kind})"
    if type(module) is nn.Conv2d:
        if module.groups != 1:
            raise ValueError(f"layer {where}: groups={module.groups} is not supported (only 1)")
        if module.padding_mode != "zeros":
            raise ValueError(f"layer {where}: padding_mode={module.padding_mode!r} is not supported")
        layer = {
            "type": kind,
            "in_channels": module.in_channels,
            "out_channels": module.out_channels,
            "kernel_size": _pair(module.kernel_size, "kernel_size", path),
            "stride": _pair(module.stride, "stride", path),
            "padding": _conv_padding(module, path),
            "dilation": _pair(module.dilation, "dilation", path),
            "groups": module.groups,
            "bias": module.bias is not None,
        }
        tensors = {"weight": module.weight}
        if module.bias is not None:
            tensors["bias"] = module.bias
        return layer, tensors
    if type(module) is nn.Linear:
        layer = {
            "type": kind,
            "in_features": module.in_features,
            "out_features": module.out_features,
            "bias": module.bias is not None,
        }
        tensors = {"weight": module.weight}
        if module.bias is not None:
            tensors["bias"] = module.bias
        return layer, tensors
    if type(module) is nn.ReLU:
        return {"type": kind}, {}
    if type(module) is nn.MaxPool2d:
        if module.return_indices:
            raise ValueError(f"layer {where}: return_indices=True is not supported")
        stride = module.stride if module.stride is not None else module.kernel_size
        return {
            "type": kind,
            "kernel_size": _pair(module.kernel_size, "kernel_size", path),
            "stride": _pair(stride, "stride", path),
            "padding": _pair(module.padding, "padding", path),
            "dilation": _pair(module.dilation, "dilation", path),
            "ceil_mode": bool(module.ceil_mode),
        }, {}
    if type(module) is nn.AvgPool2d:
        if module.divisor_override is not None:
            raise ValueError(f"layer {where}: divisor_override is not supported")
        stride = module.stride if module.stride is not None else module.kernel_size
        return {
            "type": kind,
            "kernel_size": _pair(module.kernel_size, "kernel_size", path),
            "stride": _pair(stride, "stride", path),
            "padding": _pair(module.padding, "padding", path),
            "ceil_mode": bool(module.ceil_mode),
            "count_include_pad": bool(module.count_include_pad),
        }, {}
    if type(module) is nn.AdaptiveAvgPool2d:
        size = module.output_size
        if size not in (1, (1, 1), [1, 1]):
            raise ValueError(f"layer {where}: only output_size 1 or (1, 1) is supported, got {size!r}")
        return {"type": kind, "output_size": [1, 1]}, {}
    if type(module) in (nn.BatchNorm2d, nn.BatchNorm1d):
        if module.running_mean is None or module.running_var is None:
            raise ValueError(f"layer {where}: track_running_stats=False is not supported (no running stats)")
        n = module.num_features
        weight = module.weight if module.weight is not None else torch.ones(n)
        bias = module.bias if module.bias is not None else torch.zeros(n)
        return {
            "type": kind,
            "num_features": n,
            "eps": float(module.eps),
            "momentum": float(module.momentum) if module.momentum is not None else 0.1,
        }, {
            "weight": weight,
            "bias": bias,
            "running_mean": module.running_mean,
            "running_var": module.running_var,
        }
    if type(module) is nn.Flatten:
        if module.start_dim != 1 or module.end_dim != -1:
            raise ValueError(
                f"layer {where}: only start_dim=1, end_dim=-1 is supported, "
                f"got start_dim={module.start_dim}, end_dim={module.end_dim}"
            )
        return {"type": kind}, {}
    if type(module) is nn.Dropout:
        return {"type": kind, "p": float(module.p)}, {}
    if type(module) in (nn.Softmax, nn.LogSoftmax):
        if not is_last:
            raise ValueError(f"layer {where}: {kind} is supported only as the last layer")
        if module.dim not in (None, 1, -1):
            raise ValueError(f"layer {where}: {kind} over dim={module.dim} is not supported (only the class dim)")
        return {"type": kind}, {}
    raise ValueError(f"layer {where}: unsupported layer type {kind}")


def _per_channel(values, channels, what):
    if values is None:
        return None
    if isinstance(values, (int, float)):
        values = [values]
    values = [float(v) for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]
    if len(values) == 1 and channels > 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(f"{what} has {len(values)} values for {channels} input channels")
    return values


def export(model, path, input_shape, mean=None, std=None, class_names=None):
    """Write ``model`` (an ``nn.Sequential``) to ``path`` as deep-inside's safetensors format.

    ``input_shape`` is ``(C, H, W)`` of one input. ``mean``/``std`` (per channel, or one value for
    all) say the model expects ``(x - mean) / std`` of pixels in [0, 1]. ``class_names`` is an
    optional list of strings, one per output. Returns the metadata dict that was written.
    """
    from safetensors.torch import save_file

    if not isinstance(model, nn.Sequential):
        raise ValueError(f"expected a torch.nn.Sequential, got {type(model).__name__}")
    input_shape = [int(v) for v in input_shape]
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W), got {input_shape}")
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std, or neither")
    mean = _per_channel(mean, input_shape[0], "mean")
    std = _per_channel(std, input_shape[0], "std")
    if std is not None and any(s <= 0 for s in std):
        raise ValueError(f"std must be positive, got {std}")

    leaves = list(_flatten(model, ""))
    if not leaves:
        raise ValueError("the model has no layers")
    layers = []
    tensors = {}
    for i, (path_i, module) in enumerate(leaves):
        layer, params = _describe(path_i, module, is_last=(i == len(leaves) - 1))
        layers.append(layer)
        for name, tensor in params.items():
            tensors[f"{i}.{name}"] = _f32(tensor)

    # One forward pass on a dummy input checks that the shapes fit together.
    flat = nn.Sequential(*(m for _, m in leaves))
    modes = [m.training for m in flat.modules()]
    flat.eval()
    try:
        with torch.no_grad():
            dtype = next((p.dtype for p in flat.parameters()), torch.float32)
            device = next((p.device for p in flat.parameters()), torch.device("cpu"))
            out = flat(torch.zeros(1, *input_shape, dtype=dtype, device=device))
    except Exception as err:  # noqa: BLE001 - reported with context
        raise ValueError(f"the model does not run on input shape {input_shape}: {err}") from err
    finally:
        for m, mode in zip(flat.modules(), modes):
            m.training = mode
    if out.ndim != 2:
        raise ValueError(f"the model's output should be [batch, classes], got shape {list(out.shape)}")
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if len(class_names) != out.shape[1]:
            raise ValueError(f"{len(class_names)} class names for {out.shape[1]} outputs")

    metadata = {
        "format": FORMAT,
        "input_shape": json.dumps(input_shape),
        "layers": json.dumps(layers),
    }
    if mean is not None:
        metadata["normalization"] = json.dumps({"mean": mean, "std": std})
    if class_names is not None:
        metadata["class_names"] = json.dumps(class_names)
    save_file(tensors, str(path), metadata=metadata)
    return metadata


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a whole pickled module, saved with torch.save(model, path)")
    parser.add_argument("out", help="the .safetensors file to write")
    parser.add_argument("--input-shape", type=int, nargs=3, required=True, metavar=("C", "H", "W"))
    parser.add_argument("--mean", type=float, nargs="+", help="per-channel mean of the normalisation")
    parser.add_argument("--std", type=float, nargs="+", help="per-channel std of the normalisation")
    parser.add_argument("--classes", nargs="+", help="class names, one per output")
    args = parser.parse_args(argv)
    model = torch.load(args.model, map_location="cpu", weights_only=False)
    try:
        meta = export(model, args.out, args.input_shape, args.mean, args.std, args.classes)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {len(json.loads(meta['layers']))} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
