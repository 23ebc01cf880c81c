//! The one backward walk. Every explanation method here (the gradient, DeconvNet, guided
//! backprop, each LRP rule) walks back through the layers from the class score to the pixels;
//! they differ only in the rule applied at each step. Rules are data, as in Zennit: a conv or
//! linear step is a sum of terms, each a modified input times the transpose of the layer with
//! modified parameters, around one normalisation (docs/METHODS.md, "The walk").

use burn::nn::Linear;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions};
use burn::tensor::{Tensor, module};

use crate::Error;
use crate::model::config::symmetric_padding;
use crate::model::{Layer, Network, Normalize};

/// How a ReLU passes the signal `g` back (`a` is the ReLU's input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReluRule {
    /// `g · 1[a > 0]`: the chain rule.
    Gradient,
    /// `g · 1[g > 0]`: Zeiler & Fergus's DeconvNet.
    Deconvnet,
    /// `g · 1[a > 0] · 1[g > 0]`: Springenberg et al.'s guided backprop.
    Guided,
    /// `g`: relevance passes a ReLU unchanged.
    Identity,
}

/// How a pooling layer passes the signal back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolRule {
    /// The chain rule: a max-pool sends all of it to the window's maximum (DeconvNet's
    /// "switch"), an average pool spreads it evenly.
    Gradient,
    /// In proportion to the inputs of the window: LRP-0 on the window seen as a sum.
    Proportional,
}

/// How the input's normalisation passes the signal back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalizeRule {
    /// The chain rule: `g / std_c`, so that gradients are with respect to the pixels.
    Gradient,
    /// Unchanged: relevance is an amount, and an affine map per pixel moves none of it.
    Identity,
}

/// What replaces the parameters `w` (and `b`) of a layer in one term: ρ in the LRP formulas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param {
    Plain,
    /// `max(0, w)`.
    Positive,
    /// `min(0, w)`.
    Negative,
    /// `w + γ·max(0, w)`.
    Gamma(f32),
    /// `w²`.
    Square,
    /// `1`.
    Ones,
}

/// What replaces the input `a` of a layer in one term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    Plain,
    /// `max(0, a)`.
    Positive,
    /// `min(0, a)`.
    Negative,
    /// The constant `v` everywhere (1 for w² and flat).
    Constant(f32),
    /// The pixel value `v` as the layer sees it (zB's bounds): mapped through the input's
    /// normalisation when the layer comes right after it, else `v` everywhere.
    Pixel(f32),
}

/// One term: `coefficient · input(a)` through the layer with parameters `param(w)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Term {
    pub coefficient: f32,
    pub input: Input,
    pub param: Param,
}

/// One normalised propagation (the four LRP steps):
/// `z = Σ_t c_t·layer_t(input_t(a)) [+ ρ(b)]`, `s = R / (z + ε·sign(z))`,
/// `R_in = Σ_t c_t·input_t(a) ⊙ layer_tᵀ(s)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Propagation {
    pub terms: Vec<Term>,
    /// The bias modifier, or `None` to leave the bias out of `z`.
    pub bias: Option<Param>,
    pub epsilon: f32,
}

/// The rule of a conv or linear step.
#[derive(Clone, Debug, PartialEq)]
pub enum LinearRule {
    /// The chain rule, `g_in = Wᵀ g`.
    Gradient,
    /// Relevance: `Σ_i weight_i · propagation_i` (αβ mixes two propagations).
    Relevance(Vec<(f32, Propagation)>),
}

/// A rule for every step of the walk.
#[derive(Clone, Debug, PartialEq)]
pub struct Composite {
    pub relu: ReluRule,
    pub normalize: NormalizeRule,
    pub max_pool: PoolRule,
    pub avg_pool: PoolRule,
    /// One rule per conv/linear layer, from the input side.
    pub layers: Vec<LinearRule>,
}

/// Keeps `s = R / z` finite where `z` is exactly zero (LRP-0 at a dead unit).
const STABILISER: f32 = 1e-12;

impl Composite {
    /// The three methods of the paper's sections 3 and 4: the chain rule through conv, pool and
    /// linear steps; only the ReLU rule differs.
    pub fn backprop(relu: ReluRule, net: &Network) -> Self {
        Self {
            relu,
            normalize: NormalizeRule::Gradient,
            max_pool: PoolRule::Gradient,
            avg_pool: PoolRule::Gradient,
            layers: vec![LinearRule::Gradient; net.weighted().len()],
        }
    }
}

/// Walks `top` (the signal at the network's output, `[n, classes, 1, 1]`) back to the input.
/// `acts` is `net.trace(x)` and `net` is canonical (no batch norm, no dropout). Returns the
/// signal at the input of every layer: entry `i` is what reaches the input of `net.layers[i]`.
pub fn walk(
    net: &Network,
    acts: &[Tensor<4>],
    top: Tensor<4>,
    composite: &Composite,
) -> Result<Vec<Tensor<4>>, Error> {
    let weighted = net.weighted().len();
    if composite.layers.len() != weighted {
        return Err(Error::argument(
            "composite",
            format!(
                "it has {} layer rules, the network {weighted} conv/linear layers",
                composite.layers.len()
            ),
        ));
    }
    if acts.len() != net.layers.len() + 1 {
        return Err(Error::argument(
            "acts",
            "the trace does not match the network",
        ));
    }
    let mut rules = composite.layers.iter().rev();
    let mut signal = top;
    let mut out = Vec::with_capacity(net.layers.len());
    for (i, layer) in net.layers.iter().enumerate().rev() {
        let a = acts[i].clone();
        signal = match layer {
            Layer::Normalize(n) => match composite.normalize {
                NormalizeRule::Gradient => signal / Normalize::channels(&n.std, &a.device()),
                NormalizeRule::Identity => signal,
            },
            Layer::Relu(_) => relu_step(a, signal, composite.relu),
            Layer::MaxPool(pool) => {
                let padding = padding(i, &pool.padding, &a, pool.kernel_size, pool.stride)?;
                let window = Window {
                    kernel: pool.kernel_size,
                    stride: pool.stride,
                    padding,
                    dilation: pool.dilation,
                    count_include_pad: true,
                };
                match composite.max_pool {
                    PoolRule::Gradient => max_pool_gradient(a, signal, window),
                    PoolRule::Proportional => proportional(i, a, signal, window)?,
                }
            }
            Layer::AvgPool(pool) => {
                let padding = padding(i, &pool.padding, &a, pool.kernel_size, pool.stride)?;
                let window = Window {
                    kernel: pool.kernel_size,
                    stride: pool.stride,
                    padding,
                    dilation: [1, 1],
                    count_include_pad: pool.count_include_pad,
                };
                avg_pool_step(i, a, signal, window, composite.avg_pool)?
            }
            Layer::GlobalAvgPool(_) => {
                let [_, _, h, w] = a.dims();
                let window = Window {
                    kernel: [h, w],
                    stride: [h, w],
                    padding: [0, 0],
                    dilation: [1, 1],
                    count_include_pad: true,
                };
                avg_pool_step(i, a, signal, window, composite.avg_pool)?
            }
            Layer::Flatten(_) => signal.reshape(a.dims()),
            Layer::Conv(_) | Layer::Linear(_) => {
                let rule = rules
                    .next()
                    .ok_or_else(|| Error::argument("composite", "fewer layer rules than layers"))?;
                let step = Weighted::new(i, layer, &a)?;
                // zB's bounds are pixels; after the normalisation they are mapped through it.
                let pixels = match i.checked_sub(1).map(|p| &net.layers[p]) {
                    Some(Layer::Normalize(n)) => Some(n),
                    _ => None,
                };
                linear_step(&step, a, signal, rule, pixels)
            }
            Layer::BatchNorm(_) | Layer::Dropout(_) => {
                return Err(Error::layer(
                    i,
                    layer.kind().name(),
                    "the walk needs the canonical network (Network::canonical)",
                ));
            }
        };
        out.push(signal.clone());
    }
    out.reverse();
    Ok(out)
}

fn padding(
    index: usize,
    config: &PaddingConfig2d,
    a: &Tensor<4>,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Result<[usize; 2], Error> {
    let [_, _, h, w] = a.dims();
    symmetric_padding(config, [h, w], kernel, stride)
        .map_err(|why| Error::layer(index, "pool", why))
}

fn relu_step(a: Tensor<4>, g: Tensor<4>, rule: ReluRule) -> Tensor<4> {
    let open = |t: Tensor<4>| t.greater_elem(0.0).float();
    match rule {
        ReluRule::Gradient => g * open(a),
        ReluRule::Deconvnet => g.clone() * open(g),
        ReluRule::Guided => g.clone() * open(a) * open(g),
        ReluRule::Identity => g,
    }
}

/// A pooling window's geometry.
#[derive(Clone, Copy)]
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    count_include_pad: bool,
}

fn max_pool_gradient(a: Tensor<4>, g: Tensor<4>, w: Window) -> Tensor<4> {
    let options = MaxPoolOptions::new(w.kernel)
        .with_stride(w.stride)
        .with_padding(w.padding)
        .with_dilation(w.dilation);
    let (_, indices) = module::max_pool2d_with_indices(a.clone(), options);
    module::max_pool2d_with_indices_backward(
        a, w.kernel, w.stride, w.padding, w.dilation, false, g, indices,
    )
}

fn avg_pool_step(
    index: usize,
    a: Tensor<4>,
    g: Tensor<4>,
    w: Window,
    rule: PoolRule,
) -> Result<Tensor<4>, Error> {
    Ok(match rule {
        PoolRule::Gradient => module::avg_pool2d_backward(
            a,
            g,
            w.kernel,
            w.stride,
            w.padding,
            w.count_include_pad,
            false,
        ),
        PoolRule::Proportional => proportional(index, a, g, w)?,
    })
}

/// `z = avg(a)`, `s = R / z`, `R_in = a ⊙ avgᵀ(s)` = `a·R / Σ_window a`.
fn proportional(index: usize, a: Tensor<4>, r: Tensor<4>, w: Window) -> Result<Tensor<4>, Error> {
    if w.dilation != [1, 1] {
        return Err(Error::layer(
            index,
            "max_pool",
            "the proportional rule needs an undilated pool",
        ));
    }
    let options = AvgPoolOptions::new(w.kernel)
        .with_stride(w.stride)
        .with_padding(w.padding)
        .with_count_include_pad(w.count_include_pad);
    let z = module::avg_pool2d(a.clone(), options);
    let s = r / stabilise(z, 0.0);
    let c = module::avg_pool2d_backward(
        a.clone(),
        s,
        w.kernel,
        w.stride,
        w.padding,
        w.count_include_pad,
        false,
    );
    Ok(a * c)
}

/// `z + ε·sign(z)` with sign(0) = +1, plus a tiny stabiliser so that `R / z` stays finite.
fn stabilise(z: Tensor<4>, epsilon: f32) -> Tensor<4> {
    let sign = z
        .clone()
        .greater_equal_elem(0.0)
        .float()
        .mul_scalar(2.0)
        .sub_scalar(1.0);
    z + sign.mul_scalar(epsilon + STABILISER)
}

/// A conv or linear layer as the walk sees it: its weight and bias, and how to apply it and
/// its transpose to the input size at hand.
enum Weighted<'a> {
    Conv {
        conv: &'a Conv2d,
        forward: ConvOptions<2>,
        transpose: ConvTransposeOptions<2>,
    },
    Linear(&'a Linear),
}

impl<'a> Weighted<'a> {
    fn new(index: usize, layer: &'a Layer, a: &Tensor<4>) -> Result<Self, Error> {
        match layer {
            Layer::Conv(conv) => {
                let [_, _, h, w] = a.dims();
                let padding =
                    symmetric_padding(&conv.padding, [h, w], conv.kernel_size, conv.stride)
                        .map_err(|why| Error::layer(index, "conv", why))?;
                // The transpose must give back the input's size: the rows and columns the
                // strides skipped at the end come back as output padding.
                let mut padding_out = [0; 2];
                for (axis, n) in [h, w].into_iter().enumerate() {
                    let span = conv.dilation[axis] * (conv.kernel_size[axis] - 1) + 1;
                    let out = (n + 2 * padding[axis] - span) / conv.stride[axis] + 1;
                    let covered = (out - 1) * conv.stride[axis] + span;
                    padding_out[axis] = n + 2 * padding[axis] - covered;
                }
                Ok(Weighted::Conv {
                    conv,
                    forward: ConvOptions::new(conv.stride, padding, conv.dilation, 1),
                    transpose: ConvTransposeOptions::new(
                        conv.stride,
                        padding,
                        padding_out,
                        conv.dilation,
                        1,
                    ),
                })
            }
            Layer::Linear(linear) => Ok(Weighted::Linear(linear)),
            other => Err(Error::layer(
                index,
                other.kind().name(),
                "not a conv or linear layer",
            )),
        }
    }

    /// The layer without bias, with modified weights, applied to `x`.
    fn forward(&self, param: Param, x: Tensor<4>) -> Tensor<4> {
        match self {
            Weighted::Conv { conv, forward, .. } => {
                module::conv2d(x, modify(conv.weight.val(), param), None, forward.clone())
            }
            Weighted::Linear(linear) => {
                let [n, f, _, _] = x.dims();
                let w = modify(linear.weight.val(), param);
                let out = w.dims()[1];
                x.reshape([n, f]).matmul(w).reshape([n, out, 1, 1])
            }
        }
    }

    /// The modified bias broadcast to the layer's output shape, or `None` without a bias.
    fn bias(&self, param: Param, out: [usize; 4]) -> Option<Tensor<4>> {
        let bias = match self {
            Weighted::Conv { conv, .. } => conv.bias.as_ref().map(|b| b.val()),
            Weighted::Linear(linear) => linear.bias.as_ref().map(|b| b.val()),
        }?;
        Some(modify(bias, param).reshape([1, out[1], 1, 1]).expand(out))
    }

    /// The transpose of the layer with modified weights: the chain rule's step back.
    fn transpose(&self, param: Param, s: Tensor<4>) -> Tensor<4> {
        match self {
            Weighted::Conv {
                conv, transpose, ..
            } => module::conv_transpose2d(
                s,
                modify(conv.weight.val(), param),
                None,
                transpose.clone(),
            ),
            Weighted::Linear(linear) => {
                let [n, f, _, _] = s.dims();
                let w = modify(linear.weight.val(), param);
                let inputs = w.dims()[0];
                s.reshape([n, f])
                    .matmul(w.transpose())
                    .reshape([n, inputs, 1, 1])
            }
        }
    }
}

fn linear_step(
    layer: &Weighted,
    a: Tensor<4>,
    g: Tensor<4>,
    rule: &LinearRule,
    pixels: Option<&Normalize>,
) -> Tensor<4> {
    match rule {
        LinearRule::Gradient => layer.transpose(Param::Plain, g),
        LinearRule::Relevance(parts) => {
            let mut total: Option<Tensor<4>> = None;
            for (weight, p) in parts {
                let r = propagate(layer, a.clone(), g.clone(), p, pixels).mul_scalar(*weight);
                total = Some(match total {
                    Some(t) => t + r,
                    None => r,
                });
            }
            total.unwrap_or_else(|| a.zeros_like())
        }
    }
}

fn propagate(
    layer: &Weighted,
    a: Tensor<4>,
    r: Tensor<4>,
    p: &Propagation,
    pixels: Option<&Normalize>,
) -> Tensor<4> {
    let inputs: Vec<Tensor<4>> = p
        .terms
        .iter()
        .map(|t| modify_input(a.clone(), t.input, pixels))
        .collect();
    let mut z: Option<Tensor<4>> = p.bias.and_then(|b| layer.bias(b, r.dims()));
    for (t, x) in p.terms.iter().zip(&inputs) {
        let zt = layer.forward(t.param, x.clone()).mul_scalar(t.coefficient);
        z = Some(match z {
            Some(z) => z + zt,
            None => zt,
        });
    }
    let Some(z) = z else {
        return a.zeros_like();
    };
    let s = r / stabilise(z, p.epsilon);
    let mut out: Option<Tensor<4>> = None;
    for (t, x) in p.terms.iter().zip(inputs) {
        let c = x * layer
            .transpose(t.param, s.clone())
            .mul_scalar(t.coefficient);
        out = Some(match out {
            Some(o) => o + c,
            None => c,
        });
    }
    out.unwrap_or_else(|| a.zeros_like())
}

fn modify_input(a: Tensor<4>, input: Input, pixels: Option<&Normalize>) -> Tensor<4> {
    match (input, pixels) {
        (Input::Plain, _) => a,
        (Input::Positive, _) => a.clamp_min(0.0),
        (Input::Negative, _) => a.clamp_max(0.0),
        (Input::Pixel(v), Some(n)) => {
            let mapped = n.map(v, &a.device());
            a.zeros_like() + mapped
        }
        (Input::Constant(v) | Input::Pixel(v), _) => a.ones_like().mul_scalar(v),
    }
}

fn modify<const D: usize>(w: Tensor<D>, param: Param) -> Tensor<D> {
    match param {
        Param::Plain => w,
        Param::Positive => w.clamp_min(0.0),
        Param::Negative => w.clamp_max(0.0),
        Param::Gamma(gamma) => w.clone() + w.clamp_min(0.0).mul_scalar(gamma),
        Param::Square => w.clone() * w,
        Param::Ones => w.ones_like(),
    }
}
