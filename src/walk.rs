//! The one backward walk. Every explanation method here (the gradient, DeconvNet, guided
//! backprop, each LRP rule) walks back through the layers from the class score to the pixels;
//! they differ only in the rule applied at each step. Rules are data, as in Zennit: a conv or
//! linear step is a sum of terms, each a modified input times the transpose of the layer with
//! modified parameters, around one normalisation.

use burn::tensor::ops::{AvgPoolOptions, ConvTransposeOptions, MaxPoolOptions};
use burn::tensor::{Tensor, module};

use crate::Error;
use crate::model::{Layer, Network, conv, linear};

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

/// How a 2×2 max-pool passes the signal back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolRule {
    /// All of it to the window's maximum (DeconvNet's "switch"; the gradient).
    WinnerTakeAll,
    /// In proportion to the inputs of the window (LRP-0 on sum-pooling).
    Proportional,
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
    /// The constant `v` everywhere (the pixel bounds of zB, or 1 for w² and flat).
    Constant(f32),
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
    pub pool: PoolRule,
    /// One rule per conv/linear layer, from the input side.
    pub layers: Vec<LinearRule>,
}

/// Keeps `s = R / z` finite where `z` is exactly zero (LRP-0 at a dead unit).
const STABILISER: f32 = 1e-12;

impl Composite {
    /// The three methods of the paper's section 3: plain chain rule through conv, pool and
    /// linear steps; only the ReLU rule differs.
    pub fn backprop(relu: ReluRule, weighted_layers: usize) -> Self {
        Self {
            relu,
            pool: PoolRule::WinnerTakeAll,
            layers: vec![LinearRule::Gradient; weighted_layers],
        }
    }
}

/// Walks `top` (the signal at the network's output, `[n, classes, 1, 1]` or `[n, classes]`
/// reshaped) back to the input. `acts` is `net.trace(x)`. Returns the signal at the input of
/// every layer: entry `i` is what reaches the input of `net.layers[i]`.
pub fn walk(
    net: &Network,
    acts: &[Tensor<4>],
    top: Tensor<4>,
    composite: &Composite,
) -> Result<Vec<Tensor<4>>, Error> {
    let weighted = net.layers.iter().filter(|l| l.name().is_some()).count();
    if composite.layers.len() != weighted {
        return Err(Error(format!(
            "the composite has {} layer rules, the network {weighted} conv/linear layers",
            composite.layers.len()
        )));
    }
    if acts.len() != net.layers.len() + 1 {
        return Err(Error("the trace does not match the network".into()));
    }
    let mut rules = composite.layers.iter().rev();
    let mut signal = top;
    let mut out = vec![signal.clone(); net.layers.len()];
    for (i, layer) in net.layers.iter().enumerate().rev() {
        let a = acts[i].clone();
        signal = match layer {
            Layer::Relu => relu_step(a, signal, composite.relu),
            Layer::MaxPool { size } => pool_step(a, signal, *size, composite.pool),
            Layer::Flatten => signal.reshape(a.dims()),
            Layer::Conv { .. } | Layer::Linear { .. } => {
                let rule = rules.next().expect("counted above");
                linear_step(layer, a, signal, rule)
            }
        };
        out[i] = signal.clone();
    }
    Ok(out)
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

fn pool_step(a: Tensor<4>, g: Tensor<4>, size: usize, rule: PoolRule) -> Tensor<4> {
    match rule {
        PoolRule::WinnerTakeAll => {
            let (_, indices) =
                module::max_pool2d_with_indices(a.clone(), MaxPoolOptions::new([size; 2]));
            module::max_pool2d_with_indices_backward(
                a,
                [size; 2],
                [size; 2],
                [0, 0],
                [1, 1],
                false,
                g,
                indices,
            )
        }
        PoolRule::Proportional => {
            // z = avg(a); s = R / z; R_in = a ⊙ avgᵀ(s) = a·R / Σ_window a.
            let z = module::avg_pool2d(a.clone(), AvgPoolOptions::new([size; 2]));
            let s = g / stabilise(z, 0.0);
            let c = module::avg_pool2d_backward(
                a.clone(),
                s,
                [size; 2],
                [size; 2],
                [0, 0],
                true,
                false,
            );
            a * c
        }
    }
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

fn linear_step(layer: &Layer, a: Tensor<4>, g: Tensor<4>, rule: &LinearRule) -> Tensor<4> {
    match rule {
        LinearRule::Gradient => transpose(layer, Param::Plain, g),
        LinearRule::Relevance(parts) => {
            let mut total: Option<Tensor<4>> = None;
            for (weight, p) in parts {
                let r = propagate(layer, a.clone(), g.clone(), p).mul_scalar(*weight);
                total = Some(match total {
                    Some(t) => t + r,
                    None => r,
                });
            }
            total.unwrap_or_else(|| a.zeros_like())
        }
    }
}

fn propagate(layer: &Layer, a: Tensor<4>, r: Tensor<4>, p: &Propagation) -> Tensor<4> {
    let inputs: Vec<Tensor<4>> = p
        .terms
        .iter()
        .map(|t| modify_input(a.clone(), t.input))
        .collect();
    let mut z: Option<Tensor<4>> = p.bias.map(|b| forward_bias(layer, b, r.dims()));
    for (t, x) in p.terms.iter().zip(&inputs) {
        let zt = forward(layer, t.param, x.clone()).mul_scalar(t.coefficient);
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
        let c = x * transpose(layer, t.param, s.clone()).mul_scalar(t.coefficient);
        out = Some(match out {
            Some(o) => o + c,
            None => c,
        });
    }
    out.unwrap_or_else(|| a.zeros_like())
}

fn modify_input(a: Tensor<4>, input: Input) -> Tensor<4> {
    match input {
        Input::Plain => a,
        Input::Positive => a.clamp_min(0.0),
        Input::Negative => a.clamp_max(0.0),
        Input::Constant(v) => a.ones_like().mul_scalar(v),
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

/// The layer without bias, with modified weights, applied to `x`.
fn forward(layer: &Layer, param: Param, x: Tensor<4>) -> Tensor<4> {
    match layer {
        Layer::Conv { weight, .. } => conv(x, modify(weight.clone(), param), None),
        Layer::Linear { weight, .. } => linear(x, modify(weight.clone(), param), None),
        _ => unreachable!("only conv and linear layers have parameters"),
    }
}

/// The modified bias, broadcast to the layer's output shape.
fn forward_bias(layer: &Layer, param: Param, out: [usize; 4]) -> Tensor<4> {
    let bias = match layer {
        Layer::Conv { bias, .. } | Layer::Linear { bias, .. } => modify(bias.clone(), param),
        _ => unreachable!("only conv and linear layers have parameters"),
    };
    let c = out[1];
    bias.reshape([1, c, 1, 1]).expand(out)
}

/// The transpose of the layer with modified weights: the chain rule's step back.
fn transpose(layer: &Layer, param: Param, s: Tensor<4>) -> Tensor<4> {
    match layer {
        Layer::Conv { weight, .. } => module::conv_transpose2d(
            s,
            modify(weight.clone(), param),
            None,
            ConvTransposeOptions::new([1, 1], [0, 0], [0, 0], [1, 1], 1),
        ),
        Layer::Linear { weight, .. } => {
            let [n, f, _, _] = s.dims();
            let w = modify(weight.clone(), param);
            let inputs = w.dims()[0];
            s.reshape([n, f])
                .matmul(w.transpose())
                .reshape([n, inputs, 1, 1])
        }
        _ => unreachable!("only conv and linear layers have parameters"),
    }
}
