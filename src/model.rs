//! The network, in one place: its architecture, its forward pass, and its weights file.
//!
//! Every activation is kept as a rank-4 tensor `[batch, channels, height, width]`: a flattened
//! vector is `[batch, features, 1, 1]`. One shape for every layer keeps the backward walk
//! (`crate::walk`) a plain loop, and makes "FC as conv" a change of layer, not of data.

use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData, activation, module};

use crate::Error;
use crate::rng::SplitMix;

/// Side of the square input image.
pub const SIDE: usize = 28;
/// Pixels in one input image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes.
pub const CLASSES: usize = 10;

/// One layer of the architecture, without its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec {
    /// A valid (unpadded), stride-1 square convolution with bias.
    Conv {
        name: &'static str,
        inputs: usize,
        outputs: usize,
        kernel: usize,
    },
    Relu,
    /// Non-overlapping `size`×`size` max-pool.
    MaxPool {
        size: usize,
    },
    /// `[n, c, h, w]` → `[n, c·h·w, 1, 1]`, in the row-major order of `c, h, w`.
    Flatten,
    /// A fully connected layer with bias.
    Linear {
        name: &'static str,
        inputs: usize,
        outputs: usize,
    },
}

/// Conv→Conv→FC→FC with ReLU and 2×2 max-pool, on raw pixels in [0, 1].
pub const ARCHITECTURE: [Spec; 10] = [
    Spec::Conv {
        name: "conv1",
        inputs: 1,
        outputs: 16,
        kernel: 5,
    },
    Spec::Relu,
    Spec::MaxPool { size: 2 },
    Spec::Conv {
        name: "conv2",
        inputs: 16,
        outputs: 32,
        kernel: 5,
    },
    Spec::Relu,
    Spec::MaxPool { size: 2 },
    Spec::Flatten,
    Spec::Linear {
        name: "fc1",
        inputs: 512,
        outputs: 128,
    },
    Spec::Relu,
    Spec::Linear {
        name: "fc2",
        inputs: 128,
        outputs: CLASSES,
    },
];

/// The shapes of the parameters of one layer of `ARCHITECTURE`: `(weight, bias)`.
/// Conv weights are `[out, in, k, k]`; linear weights are burn's `[in, out]`.
pub fn parameter_shapes(spec: &Spec) -> Option<(Vec<usize>, usize)> {
    match *spec {
        Spec::Conv {
            inputs,
            outputs,
            kernel,
            ..
        } => Some((vec![outputs, inputs, kernel, kernel], outputs)),
        Spec::Linear {
            inputs, outputs, ..
        } => Some((vec![inputs, outputs], outputs)),
        _ => None,
    }
}

/// A layer with its weights, on some device.
#[derive(Clone, Debug)]
pub enum Layer {
    Conv {
        name: &'static str,
        weight: Tensor<4>,
        bias: Tensor<1>,
    },
    Relu,
    MaxPool {
        size: usize,
    },
    Flatten,
    /// Weight `[in, out]`.
    Linear {
        name: &'static str,
        weight: Tensor<2>,
        bias: Tensor<1>,
    },
}

impl Layer {
    /// The layer's output for input `a`.
    pub fn forward(&self, a: Tensor<4>) -> Tensor<4> {
        match self {
            Layer::Conv { weight, bias, .. } => conv(a, weight.clone(), Some(bias.clone())),
            Layer::Relu => activation::relu(a),
            Layer::MaxPool { size } => module::max_pool2d(a, MaxPoolOptions::new([*size; 2])),
            Layer::Flatten => {
                let [n, c, h, w] = a.dims();
                a.reshape([n, c * h * w, 1, 1])
            }
            Layer::Linear { weight, bias, .. } => linear(a, weight.clone(), Some(bias.clone())),
        }
    }

    /// The layer's name, for layers with weights.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Layer::Conv { name, .. } | Layer::Linear { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// Stride-1 valid convolution.
pub fn conv(a: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    module::conv2d(a, weight, bias, ConvOptions::new([1, 1], [0, 0], [1, 1], 1))
}

/// A fully connected layer on `[n, in, 1, 1]`, weight `[in, out]`.
pub fn linear(a: Tensor<4>, weight: Tensor<2>, bias: Option<Tensor<1>>) -> Tensor<4> {
    let [n, f, _, _] = a.dims();
    let out = weight.dims()[1];
    module::linear(a.reshape([n, f]), weight, bias).reshape([n, out, 1, 1])
}

/// The trained network: `ARCHITECTURE` with weights.
#[derive(Clone, Debug)]
pub struct Network {
    pub layers: Vec<Layer>,
}

impl Network {
    /// Builds the network from flat parameter tensors, in `ARCHITECTURE` order (weight then
    /// bias for each layer that has them). Flat tensors let training keep one optimiser state
    /// shape for all of them.
    pub fn from_flat(params: &[Tensor<1>]) -> Result<Self, Error> {
        let mut params = params.iter();
        let mut next = |len: usize| -> Result<Tensor<1>, Error> {
            let p = params
                .next()
                .ok_or_else(|| Error::weights("too few tensors"))?;
            if p.dims()[0] != len {
                return Err(Error::weights(format!(
                    "a tensor has {} values, the architecture needs {len}",
                    p.dims()[0]
                )));
            }
            Ok(p.clone())
        };
        let mut layers = Vec::with_capacity(ARCHITECTURE.len());
        for spec in ARCHITECTURE.iter() {
            let layer = match (*spec, parameter_shapes(spec)) {
                (Spec::Conv { name, .. }, Some((w, b))) => Layer::Conv {
                    name,
                    weight: next(w.iter().product())?.reshape([w[0], w[1], w[2], w[3]]),
                    bias: next(b)?,
                },
                (Spec::Linear { name, .. }, Some((w, b))) => Layer::Linear {
                    name,
                    weight: next(w.iter().product())?.reshape([w[0], w[1]]),
                    bias: next(b)?,
                },
                (Spec::Relu, _) => Layer::Relu,
                (Spec::MaxPool { size }, _) => Layer::MaxPool { size },
                (Spec::Flatten, _) => Layer::Flatten,
                _ => unreachable!("every spec with parameters has shapes"),
            };
            layers.push(layer);
        }
        if params.next().is_some() {
            return Err(Error::weights("too many tensors"));
        }
        Ok(Self { layers })
    }

    /// The parameters as flat tensors, in the order [`Network::from_flat`] takes them.
    pub fn flat_parameters(&self) -> Vec<Tensor<1>> {
        let mut out = Vec::new();
        for layer in &self.layers {
            match layer {
                Layer::Conv { weight, bias, .. } => {
                    out.push(
                        weight
                            .clone()
                            .reshape([weight.dims().iter().product::<usize>()]),
                    );
                    out.push(bias.clone());
                }
                Layer::Linear { weight, bias, .. } => {
                    out.push(
                        weight
                            .clone()
                            .reshape([weight.dims().iter().product::<usize>()]),
                    );
                    out.push(bias.clone());
                }
                _ => {}
            }
        }
        out
    }

    /// Builds the network from host parameters (checked against the architecture's shapes).
    pub fn from_parameters(params: &[Parameter], device: &Device) -> Result<Self, Error> {
        let expected: Vec<Vec<usize>> = ARCHITECTURE
            .iter()
            .filter_map(parameter_shapes)
            .flat_map(|(w, b)| [w, vec![b]])
            .collect();
        if params.len() != expected.len() {
            return Err(Error::weights(format!(
                "{} tensors, the architecture needs {}",
                params.len(),
                expected.len()
            )));
        }
        let mut flat = Vec::with_capacity(params.len());
        for (p, shape) in params.iter().zip(&expected) {
            if &p.shape != shape {
                return Err(Error::weights(format!(
                    "a tensor has shape {:?}, the architecture needs {:?}",
                    p.shape, shape
                )));
            }
            let len = p.values.len();
            flat.push(Tensor::from_data(
                TensorData::new(p.values.clone(), [len]),
                device,
            ));
        }
        Self::from_flat(&flat)
    }

    /// Decodes a weights file (see [`encode_parameters`]) onto `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, Error> {
        Self::from_parameters(&decode_parameters(bytes)?, device)
    }

    /// Logits `S(x)`, `[n, 10]`, for images `[n, 1, 28, 28]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let out = self.layers.iter().fold(x, |a, layer| layer.forward(a));
        let [n, c, _, _] = out.dims();
        out.reshape([n, c])
    }

    /// The forward pass, keeping the input of every layer (the walk needs them).
    /// `inputs[i]` is the input of `layers[i]`; the last entry is the output.
    pub fn trace(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut acts = Vec::with_capacity(self.layers.len() + 1);
        acts.push(x);
        for layer in &self.layers {
            let next = layer.forward(acts[acts.len() - 1].clone());
            acts.push(next);
        }
        acts
    }

    /// The same network with its fully connected layers as convolutions (the seed's form for
    /// LRP): the first FC layer after a `C×H×W` map becomes a conv with an `H×W` kernel, later
    /// ones 1×1 convs. Every layer's input is then a spatial map, so relevance can be shown
    /// per layer at its own resolution. Gives the same scores.
    pub fn fc_as_conv(&self, input: [usize; 3]) -> Self {
        let [mut c, mut h, mut w] = input;
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            match layer {
                Layer::Flatten => {}
                Layer::Linear { name, weight, bias } => {
                    // [in, out] with in = c·h·w in flatten order → [out, c, h, w].
                    let out = weight.dims()[1];
                    layers.push(Layer::Conv {
                        name,
                        weight: weight.clone().transpose().reshape([out, c, h, w]),
                        bias: bias.clone(),
                    });
                    (c, h, w) = (out, 1, 1);
                }
                Layer::Conv { weight, .. } => {
                    let [out, _, kh, kw] = weight.dims();
                    (c, h, w) = (out, h + 1 - kh, w + 1 - kw);
                    layers.push(layer.clone());
                }
                Layer::MaxPool { size } => {
                    (h, w) = (h / size, w / size);
                    layers.push(layer.clone());
                }
                Layer::Relu => layers.push(layer.clone()),
            }
        }
        Self { layers }
    }

    /// A copy with every bias set to zero (LRP-0, z⁺ and zB conserve relevance exactly there).
    pub fn without_biases(&self) -> Self {
        self.map_parameters(|w| w, |w| w, |b| b.zeros_like())
    }

    /// A copy with every conv weight, linear weight and bias passed through a function.
    pub fn map_parameters(
        &self,
        conv: impl Fn(Tensor<4>) -> Tensor<4>,
        linear: impl Fn(Tensor<2>) -> Tensor<2>,
        bias: impl Fn(Tensor<1>) -> Tensor<1>,
    ) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|layer| match layer {
                Layer::Conv {
                    name,
                    weight,
                    bias: b,
                } => Layer::Conv {
                    name,
                    weight: conv(weight.clone()),
                    bias: bias(b.clone()),
                },
                Layer::Linear {
                    name,
                    weight,
                    bias: b,
                } => Layer::Linear {
                    name,
                    weight: linear(weight.clone()),
                    bias: bias(b.clone()),
                },
                other => other.clone(),
            })
            .collect();
        Self { layers }
    }
}

/// He-uniform weights and zero biases, as flat tensors in file order: the start of training,
/// and the re-initialisation of the model-randomisation check.
pub fn initial_parameters(rng: &mut SplitMix, device: &Device) -> Vec<Tensor<1>> {
    let mut params = Vec::new();
    for (w, b) in ARCHITECTURE.iter().filter_map(parameter_shapes) {
        // Conv weights are [out, in, k, k]; linear weights [in, out].
        let fan_in = if w.len() == 4 {
            w[1] * w[2] * w[3]
        } else {
            w[0]
        };
        let bound = (6.0 / fan_in as f32).sqrt();
        let len: usize = w.iter().product();
        let values: Vec<f32> = (0..len)
            .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
            .collect();
        params.push(Tensor::from_data(TensorData::new(values, [len]), device));
        params.push(Tensor::zeros([b], device));
    }
    params
}

/// A named tensor of the weights file, on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

const MAGIC: &[u8; 4] = b"DIW1";

/// The weights file: `DIW1`, a u32 tensor count, then per tensor a u32 rank, u32 dims and
/// little-endian f32 values. Self-describing, so a mismatch with the architecture is caught.
pub fn encode_parameters(params: &[Parameter]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend((params.len() as u32).to_le_bytes());
    for p in params {
        out.extend((p.shape.len() as u32).to_le_bytes());
        for &d in &p.shape {
            out.extend((d as u32).to_le_bytes());
        }
        for v in &p.values {
            out.extend(v.to_le_bytes());
        }
    }
    out
}

/// Reads a file written by [`encode_parameters`].
pub fn decode_parameters(bytes: &[u8]) -> Result<Vec<Parameter>, Error> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err(Error::weights("not a deep-inside weights file"));
    }
    let count = r.u32()? as usize;
    let mut params = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let rank = r.u32()? as usize;
        if rank > 4 {
            return Err(Error::weights("tensor rank above 4"));
        }
        let shape = (0..rank)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let len: usize = shape.iter().product();
        let values = r
            .take(len.checked_mul(4).ok_or_else(|| Error::weights("size"))?)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        params.push(Parameter { shape, values });
    }
    if r.at != bytes.len() {
        return Err(Error::weights("trailing bytes"));
    }
    Ok(params)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Error::weights("file is truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
