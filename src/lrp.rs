//! Layer-wise Relevance Propagation (Bach et al. 2015; Montavon et al. 2019): the class score
//! `S_c(x)` is redistributed layer by layer down to the pixels. It is the same walk as the
//! gradient (`crate::walk`), with relevance rules at conv and linear steps and the ReLU passing
//! relevance unchanged. It runs on the FC-as-conv form of the network, so that the relevance
//! entering every layer is a spatial map.

use burn::tensor::Tensor;

use crate::Error;
use crate::model::Network;
use crate::walk::{
    Composite, Input, LinearRule, Param, PoolRule, Propagation, ReluRule, Term, walk,
};

/// One LRP rule for a conv or linear layer (METHODS.md §4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// LRP-0: `ρ(w) = w`.
    Zero,
    /// LRP-ε: `z + ε·sign(z)` in the denominator.
    Epsilon(f32),
    /// LRP-γ: `ρ(w) = w + γ·max(0, w)`.
    Gamma(f32),
    /// αβ with `α − β = 1`; α = 1, β = 0 is z⁺.
    AlphaBeta { alpha: f32, beta: f32 },
    /// zB for inputs bounded to `[low, high]` (the pixel layer).
    ZBox { low: f32, high: f32 },
    /// w²: `R_j = Σ_k w²_jk / Σ_j' w²_j'k · R_k`.
    WSquare,
    /// flat: relevance spread evenly over the receptive field.
    Flat,
}

const fn term(coefficient: f32, input: Input, param: Param) -> Term {
    Term {
        coefficient,
        input,
        param,
    }
}

impl Rule {
    /// z⁺, the αβ rule with α = 1, β = 0.
    pub const Z_PLUS: Rule = Rule::AlphaBeta {
        alpha: 1.0,
        beta: 0.0,
    };

    /// Reads a rule from its name: "zero", "epsilon", "gamma", "zplus", "alpha2beta1",
    /// "zbox", "wsquare", "flat". `epsilon` and `gamma` take their parameter from the caller.
    pub fn parse(name: &str, epsilon: f32, gamma: f32) -> Result<Self, Error> {
        Ok(match name {
            "zero" => Rule::Zero,
            "epsilon" => Rule::Epsilon(epsilon),
            "gamma" => Rule::Gamma(gamma),
            "zplus" => Rule::Z_PLUS,
            "alpha2beta1" => Rule::AlphaBeta {
                alpha: 2.0,
                beta: 1.0,
            },
            "zbox" => Rule::ZBox {
                low: 0.0,
                high: 1.0,
            },
            "wsquare" => Rule::WSquare,
            "flat" => Rule::Flat,
            other => {
                return Err(Error::argument(
                    "rule",
                    format!(
                        "unknown LRP rule {other:?} (expected zero, epsilon, gamma, zplus, alpha2beta1, zbox, wsquare or flat)"
                    ),
                ));
            }
        })
    }

    /// The rule as data for the walk.
    pub fn linear_rule(self) -> LinearRule {
        let one = |terms: Vec<Term>, bias: Option<Param>, epsilon: f32| Propagation {
            terms,
            bias,
            epsilon,
        };
        let plain = |param| vec![term(1.0, Input::Plain, param)];
        let parts = match self {
            Rule::Zero => vec![(1.0, one(plain(Param::Plain), Some(Param::Plain), 0.0))],
            Rule::Epsilon(e) => vec![(1.0, one(plain(Param::Plain), Some(Param::Plain), e))],
            Rule::Gamma(g) => vec![(1.0, one(plain(Param::Gamma(g)), Some(Param::Gamma(g)), 0.0))],
            Rule::AlphaBeta { alpha, beta } => {
                // Positive contributions a⁺w⁺ + a⁻w⁻, and negative ones a⁺w⁻ + a⁻w⁺, each
                // normalised on its own.
                let positive = one(
                    vec![
                        term(1.0, Input::Positive, Param::Positive),
                        term(1.0, Input::Negative, Param::Negative),
                    ],
                    Some(Param::Positive),
                    0.0,
                );
                let negative = one(
                    vec![
                        term(1.0, Input::Positive, Param::Negative),
                        term(1.0, Input::Negative, Param::Positive),
                    ],
                    Some(Param::Negative),
                    0.0,
                );
                let mut parts = vec![(alpha, positive)];
                if beta != 0.0 {
                    parts.push((-beta, negative));
                }
                parts
            }
            Rule::ZBox { low, high } => vec![(
                1.0,
                one(
                    vec![
                        term(1.0, Input::Plain, Param::Plain),
                        term(-1.0, Input::Constant(low), Param::Positive),
                        term(-1.0, Input::Constant(high), Param::Negative),
                    ],
                    None,
                    0.0,
                ),
            )],
            Rule::WSquare => vec![(
                1.0,
                one(
                    vec![term(1.0, Input::Constant(1.0), Param::Square)],
                    None,
                    0.0,
                ),
            )],
            Rule::Flat => vec![(
                1.0,
                one(
                    vec![term(1.0, Input::Constant(1.0), Param::Ones)],
                    None,
                    0.0,
                ),
            )],
        };
        LinearRule::Relevance(parts)
    }
}

/// Composites: which rule at which layer (conv1, conv2, fc1, fc2), plus the pooling rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub layers: Vec<Rule>,
    pub pool: PoolRule,
}

impl Rules {
    /// The presets: "recommended" (zB, γ, ε, LRP-0), "epsilon", "zplus", "alpha2beta1".
    pub fn preset(name: &str) -> Result<Self, Error> {
        let layers = match name {
            "recommended" => vec![
                Rule::ZBox {
                    low: 0.0,
                    high: 1.0,
                },
                Rule::Gamma(0.25),
                Rule::Epsilon(0.25),
                Rule::Zero,
            ],
            "epsilon" => vec![Rule::Epsilon(0.25); 4],
            "zplus" => vec![Rule::Z_PLUS; 4],
            "alpha2beta1" => vec![
                Rule::AlphaBeta {
                    alpha: 2.0,
                    beta: 1.0
                };
                4
            ],
            other => {
                return Err(Error::argument(
                    "composite",
                    format!(
                        "unknown composite {other:?} (expected recommended, epsilon, zplus or alpha2beta1)"
                    ),
                ));
            }
        };
        Ok(Self {
            layers,
            pool: PoolRule::WinnerTakeAll,
        })
    }

    fn composite(&self) -> Composite {
        Composite {
            relu: ReluRule::Identity,
            pool: self.pool,
            layers: self.layers.iter().map(|r| r.linear_rule()).collect(),
        }
    }
}

/// The relevance entering one conv/linear layer.
#[derive(Clone, Debug)]
pub struct LayerRelevance {
    pub name: &'static str,
    /// Summed over channels: `[n, 1, h, w]` at the layer's input resolution.
    pub map: Tensor<4>,
    /// Per channel (what FC2's 128 inputs need): `[n, c, h, w]`.
    pub full: Tensor<4>,
}

/// LRP's result for a batch.
#[derive(Clone, Debug)]
pub struct Relevance {
    /// The relevance entering each conv/linear layer, from the input side (conv1's is the
    /// pixel-level map).
    pub layers: Vec<LayerRelevance>,
    /// The scores `S(x)`, `[n, classes]`.
    pub scores: Tensor<2>,
}

/// Runs LRP for `class` on `net` (use `Network::fc_as_conv` for per-layer spatial maps; the
/// FC form gives the same pixel relevance). Starts from `R = S(x) ⊙ onehot(c)`.
pub fn relevance(
    net: &Network,
    x: Tensor<4>,
    class: usize,
    rules: &Rules,
) -> Result<Relevance, Error> {
    let acts = net.trace(x);
    let out = acts[acts.len() - 1].clone();
    let [n, classes, _, _] = out.dims();
    let top = out.clone() * crate::saliency::one_hot(out.dims(), class, &out.device())?;
    let signals = walk(net, &acts, top, &rules.composite())?;
    let layers = net
        .layers
        .iter()
        .zip(signals)
        .filter_map(|(layer, r)| {
            layer.name().map(|name| LayerRelevance {
                name,
                map: r.clone().sum_dim(1),
                full: r,
            })
        })
        .collect();
    Ok(Relevance {
        layers,
        scores: out.reshape([n, classes]),
    })
}

/// `Σ R` per image of a relevance tensor: `[n]`.
pub fn totals(r: Tensor<4>) -> Tensor<1> {
    let [n, c, h, w] = r.dims();
    r.reshape([n, c * h * w]).sum_dim(1).reshape([n])
}
