//! Layer-wise Relevance Propagation (Bach et al. 2015, <https://doi.org/10.1371/journal.pone.0130140>;
//! Montavon et al. 2019): the class score `S_c(x)` is redistributed layer by layer down to the
//! pixels. It is the same walk as the gradient (`crate::walk`), with relevance rules at conv
//! and linear steps, the ReLU passing relevance unchanged and average pools proportional.
//! Composites give each conv or linear layer its rule by kind and position, as Zennit's do.
//!
//! ```no_run
//! # use deep_inside::{lrp::{Rules, relevance}, model::Model, data::Shipped};
//! # fn main() -> Result<(), deep_inside::Error> {
//! let device = deep_inside::backend::cpu();
//! let model = Shipped::Mnist.load(&device)?;
//! let rules = Rules::preset("recommended", &model)?;
//! let x = model.image(&vec![0.0; model.input_len()], &device)?;
//! let r = relevance(&model.network, x, 3, &rules)?;
//! # Ok(()) }
//! ```

use burn::tensor::Tensor;

use crate::Error;
use crate::model::{Kind, Layer, Model, Network};
use crate::walk::{
    Composite, Input, LinearRule, NormalizeRule, Param, PoolRule, Propagation, ReluRule, Term, walk,
};

/// One LRP rule for a conv or linear layer (docs/METHODS.md, "LRP rules").
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

/// The rules by name, with what each is for: the page's catalogue.
pub const RULES: [(&str, &str); 8] = [
    (
        "zbox",
        "zB: for the pixel layer, bounded by the input range",
    ),
    ("zero", "LRP-0: the gradient × input of the layer"),
    (
        "epsilon",
        "LRP-ε (ε = 0.25): absorbs weak, contradictory relevance",
    ),
    ("gamma", "LRP-γ (γ = 0.25): favours positive contributions"),
    ("zplus", "z⁺ (α1β0): positive contributions only"),
    (
        "alpha2beta1",
        "α2β1: positive contributions, minus half the negative",
    ),
    ("wsquare", "w²: by squared weights, ignoring the input"),
    ("flat", "flat: evenly over the receptive field"),
];

/// The default ε and γ where a rule is named without its parameter.
pub const DEFAULT_EPSILON: f32 = 0.25;
pub const DEFAULT_GAMMA: f32 = 0.25;

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

    /// LRP-ε with `ε ≥ 0`.
    pub fn epsilon(epsilon: f32) -> Result<Self, Error> {
        if epsilon.is_finite() && epsilon >= 0.0 {
            Ok(Rule::Epsilon(epsilon))
        } else {
            Err(Error::argument(
                "epsilon",
                format!("must be ≥ 0, got {epsilon}"),
            ))
        }
    }

    /// LRP-γ with `γ ≥ 0`.
    pub fn gamma(gamma: f32) -> Result<Self, Error> {
        if gamma.is_finite() && gamma >= 0.0 {
            Ok(Rule::Gamma(gamma))
        } else {
            Err(Error::argument(
                "gamma",
                format!("must be ≥ 0, got {gamma}"),
            ))
        }
    }

    /// αβ: conservation needs `α − β = 1` with `β ≥ 0`.
    pub fn alpha_beta(alpha: f32, beta: f32) -> Result<Self, Error> {
        if !(alpha.is_finite() && beta.is_finite() && beta >= 0.0) {
            return Err(Error::argument(
                "beta",
                format!("α and β must be finite with β ≥ 0, got α = {alpha}, β = {beta}"),
            ));
        }
        if (alpha - beta - 1.0).abs() > 1e-6 {
            return Err(Error::argument(
                "alpha",
                format!("αβ needs α − β = 1 to conserve relevance, got α = {alpha}, β = {beta}"),
            ));
        }
        Ok(Rule::AlphaBeta { alpha, beta })
    }

    /// zB for inputs in `[low, high]`, `low < high`.
    pub fn zbox(low: f32, high: f32) -> Result<Self, Error> {
        if low.is_finite() && high.is_finite() && low < high {
            Ok(Rule::ZBox { low, high })
        } else {
            Err(Error::argument(
                "bounds",
                format!("zB needs finite bounds low < high, got [{low}, {high}]"),
            ))
        }
    }

    /// Reads a rule: a name of [`RULES`], optionally with its parameters in brackets —
    /// `epsilon(0.1)`, `gamma(0.5)`, `alphabeta(3,2)`, `zbox(-1,1)`. zB without bounds takes
    /// `bounds`, the model's input range.
    pub fn parse(text: &str, bounds: [f32; 2]) -> Result<Self, Error> {
        let text = text.trim();
        let (name, args) = match text.split_once('(') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(|| {
                    Error::argument("rule", format!("{text:?}: missing closing bracket"))
                })?;
                let args = inner
                    .split(',')
                    .map(|a| a.trim().parse::<f32>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::argument("rule", format!("{text:?}: {e}")))?;
                (name.trim(), args)
            }
            None => (text, Vec::new()),
        };
        let wrong = |n: usize| {
            Error::argument(
                "rule",
                format!(
                    "{text:?}: {name} takes {n} parameter(s), got {}",
                    args.len()
                ),
            )
        };
        match (name, args.as_slice()) {
            ("zero", []) => Ok(Rule::Zero),
            ("epsilon", []) => Rule::epsilon(DEFAULT_EPSILON),
            ("epsilon", [e]) => Rule::epsilon(*e),
            ("gamma", []) => Rule::gamma(DEFAULT_GAMMA),
            ("gamma", [g]) => Rule::gamma(*g),
            ("zplus", []) => Ok(Rule::Z_PLUS),
            ("alpha2beta1", []) => Rule::alpha_beta(2.0, 1.0),
            ("alphabeta", [a, b]) => Rule::alpha_beta(*a, *b),
            ("zbox", []) => Rule::zbox(bounds[0], bounds[1]),
            ("zbox", [low, high]) => Rule::zbox(*low, *high),
            ("wsquare", []) => Ok(Rule::WSquare),
            ("flat", []) => Ok(Rule::Flat),
            ("zero" | "zplus" | "alpha2beta1" | "wsquare" | "flat", _) => Err(wrong(0)),
            ("epsilon" | "gamma", _) => Err(wrong(1)),
            ("alphabeta" | "zbox", _) => Err(wrong(2)),
            _ => Err(Error::argument(
                "rule",
                format!(
                    "unknown LRP rule {text:?} (expected one of {}, or alphabeta(α,β))",
                    RULES.map(|r| r.0).join(", ")
                ),
            )),
        }
    }

    /// The rule as [`Rule::parse`] reads it back.
    pub fn name(&self) -> String {
        match *self {
            Rule::Zero => "zero".into(),
            Rule::Epsilon(e) => format!("epsilon({e})"),
            Rule::Gamma(g) => format!("gamma({g})"),
            Rule::AlphaBeta { alpha, beta } if alpha == 1.0 && beta == 0.0 => "zplus".into(),
            Rule::AlphaBeta { alpha, beta } if alpha == 2.0 && beta == 1.0 => "alpha2beta1".into(),
            Rule::AlphaBeta { alpha, beta } => format!("alphabeta({alpha},{beta})"),
            Rule::ZBox { low, high } => format!("zbox({low},{high})"),
            Rule::WSquare => "wsquare".into(),
            Rule::Flat => "flat".into(),
        }
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
                        term(-1.0, Input::Pixel(low), Param::Positive),
                        term(-1.0, Input::Pixel(high), Param::Negative),
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

/// A weighted layer's place in the network: what a composite assigns rules by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub kind: Kind,
    /// The layer that sees the pixels.
    pub first: bool,
    /// The layer that gives the scores.
    pub last: bool,
}

/// Composites: a rule for each weighted layer by its kind and position (Zennit's
/// `composites.py`), and the rule of max-pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// zB on the first layer, γ on the other convs, ε on dense layers, LRP-0 on the last
    /// (Montavon et al. 2019's recommendation; Zennit's EpsilonGammaBox with LRP-0 on top).
    Recommended,
    /// LRP-ε everywhere.
    Epsilon,
    /// z⁺ everywhere.
    ZPlus,
    /// α2β1 everywhere.
    Alpha2Beta1,
    /// z⁺ on convs, ε on dense layers (Zennit's EpsilonPlus).
    EpsilonPlus,
}

/// The presets by name, with what each is for: the page's catalogue.
pub const PRESETS: [(&str, &str); 5] = [
    (
        "recommended",
        "zB on the first layer, γ on convs, ε on dense layers, LRP-0 on the last",
    ),
    ("epsilon", "LRP-ε on every layer"),
    ("zplus", "z⁺ on every layer"),
    ("alpha2beta1", "α2β1 on every layer"),
    (
        "epsilon_plus",
        "z⁺ on convs, ε on dense layers (Zennit's EpsilonPlus)",
    ),
];

impl Preset {
    pub fn parse(name: &str) -> Result<Self, Error> {
        Ok(match name {
            "recommended" => Preset::Recommended,
            "epsilon" => Preset::Epsilon,
            "zplus" => Preset::ZPlus,
            "alpha2beta1" => Preset::Alpha2Beta1,
            "epsilon_plus" => Preset::EpsilonPlus,
            other => {
                return Err(Error::argument(
                    "composite",
                    format!(
                        "unknown composite {other:?} (expected {})",
                        PRESETS.map(|p| p.0).join(", ")
                    ),
                ));
            }
        })
    }

    /// The rule this preset gives a layer at `at`, for inputs in `bounds`.
    pub fn rule(self, at: Position, bounds: [f32; 2]) -> Rule {
        let [low, high] = bounds;
        match self {
            Preset::Recommended if at.first => Rule::ZBox { low, high },
            Preset::Recommended if at.last => Rule::Zero,
            Preset::Recommended if at.kind == Kind::Conv => Rule::Gamma(DEFAULT_GAMMA),
            Preset::Recommended => Rule::Epsilon(DEFAULT_EPSILON),
            Preset::Epsilon => Rule::Epsilon(DEFAULT_EPSILON),
            Preset::ZPlus => Rule::Z_PLUS,
            Preset::Alpha2Beta1 => Rule::AlphaBeta {
                alpha: 2.0,
                beta: 1.0,
            },
            Preset::EpsilonPlus if at.kind == Kind::Conv => Rule::Z_PLUS,
            Preset::EpsilonPlus => Rule::Epsilon(DEFAULT_EPSILON),
        }
    }
}

/// The rule of every weighted layer, plus the max-pool rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub layers: Vec<Rule>,
    pub max_pool: PoolRule,
}

/// The positions of a model's weighted layers, from the input side.
pub fn positions(net: &Network) -> Vec<Position> {
    let kinds: Vec<Kind> = net
        .weighted()
        .into_iter()
        .map(|i| net.layers[i].kind())
        .collect();
    let n = kinds.len();
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Position {
            kind,
            first: i == 0,
            last: i + 1 == n,
        })
        .collect()
}

impl Rules {
    /// A preset by name (see [`PRESETS`]) on `model`, max-pools winner-take-all.
    pub fn preset(name: &str, model: &Model) -> Result<Self, Error> {
        let preset = Preset::parse(name)?;
        let bounds = model.config.input_range;
        Ok(Self {
            layers: positions(&model.network)
                .into_iter()
                .map(|at| preset.rule(at, bounds))
                .collect(),
            max_pool: PoolRule::Gradient,
        })
    }

    /// One rule per weighted layer, by text (see [`Rule::parse`]). A bad rule is named by its
    /// place, `composite[i]`, whichever of its parameters is wrong.
    pub fn custom(rules: &[String], model: &Model) -> Result<Self, Error> {
        let weighted = model.network.weighted().len();
        if rules.len() != weighted {
            return Err(Error::argument(
                "composite",
                format!(
                    "a custom composite names one rule per conv/linear layer: {weighted}, got {}",
                    rules.len()
                ),
            ));
        }
        let bounds = model.config.input_range;
        Ok(Self {
            layers: rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Rule::parse(r, bounds).map_err(|e| match e {
                        Error::Argument { name, why } => Error::argument(
                            format!("composite[{i}]"),
                            if name == "rule" {
                                why
                            } else {
                                format!("{r:?}: {name} {why}")
                            },
                        ),
                        other => other,
                    })
                })
                .collect::<Result<_, _>>()?,
            max_pool: PoolRule::Gradient,
        })
    }

    fn composite(&self) -> Composite {
        Composite {
            relu: ReluRule::Identity,
            normalize: NormalizeRule::Identity,
            max_pool: self.max_pool,
            avg_pool: PoolRule::Proportional,
            layers: self.layers.iter().map(|r| r.linear_rule()).collect(),
        }
    }
}

/// The relevance entering one conv/linear layer.
#[derive(Clone, Debug)]
pub struct LayerRelevance {
    /// The layer's index in the network.
    pub layer: usize,
    /// Summed over channels: `[n, 1, h, w]` at the layer's input resolution (for a dense
    /// layer after a flatten, the flattened map's).
    pub map: Tensor<4>,
    /// Per channel: `[n, c, h, w]`.
    pub full: Tensor<4>,
}

/// LRP's result for a batch.
#[derive(Clone, Debug)]
pub struct Relevance {
    /// The relevance at the input, `[n, c, h, w]`: the pixel-level map.
    pub pixels: Tensor<4>,
    /// The relevance entering each conv/linear layer, from the input side (the first is the
    /// pixel-level map).
    pub layers: Vec<LayerRelevance>,
    /// The scores `S(x)`, `[n, classes]`.
    pub scores: Tensor<2>,
}

/// Runs LRP for `class` on the canonical `net`. Starts from `R = S(x) ⊙ onehot(c)`.
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
        .weighted()
        .into_iter()
        .map(|i| {
            // A dense layer after a flatten: the same relevance, at the flattened map's shape.
            let at = match i.checked_sub(1).map(|p| &net.layers[p]) {
                Some(Layer::Flatten(_)) => i - 1,
                _ => i,
            };
            let full = signals[at].clone();
            LayerRelevance {
                layer: i,
                map: full.clone().sum_dim(1),
                full,
            }
        })
        .collect();
    Ok(Relevance {
        pixels: signals[0].clone(),
        layers,
        scores: out.reshape([n, classes]),
    })
}

/// `Σ R` per image of a relevance tensor: `[n]`.
pub fn totals(r: Tensor<4>) -> Tensor<1> {
    let [n, c, h, w] = r.dims();
    r.reshape([n, c * h * w]).sum_dim(1).reshape([n])
}
