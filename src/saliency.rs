//! Image-specific class saliency (paper §3) beside its two relatives (paper §4): the gradient,
//! DeconvNet and guided backprop are the same walk back from `S_c`, differing only at ReLU.

use burn::tensor::{Device, Tensor, TensorData};

use crate::Error;
use crate::model::Network;
use crate::walk::{Composite, ReluRule, walk};

/// The three backward-rule methods of the paper's sections 3 and 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Gradient,
    Deconvnet,
    Guided,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Gradient, Method::Deconvnet, Method::Guided];

    /// "gradient", "deconvnet" or "guided".
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "gradient" => Ok(Method::Gradient),
            "deconvnet" => Ok(Method::Deconvnet),
            "guided" => Ok(Method::Guided),
            other => Err(Error::argument(
                "method",
                format!("expected \"gradient\", \"deconvnet\" or \"guided\", got {other:?}"),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Gradient => "gradient",
            Method::Deconvnet => "deconvnet",
            Method::Guided => "guided",
        }
    }

    fn relu(self) -> ReluRule {
        match self {
            Method::Gradient => ReluRule::Gradient,
            Method::Deconvnet => ReluRule::Deconvnet,
            Method::Guided => ReluRule::Guided,
        }
    }

    /// The rules of the walk for this method on `net`.
    pub fn composite(self, net: &Network) -> Composite {
        Composite::backprop(self.relu(), net)
    }
}

/// The one-hot start signal `∂S_c/∂S`, shaped like the network's output `[n, classes, 1, 1]`.
pub fn one_hot(output: [usize; 4], class: usize, device: &Device) -> Result<Tensor<4>, Error> {
    let [n, classes, _, _] = output;
    if class >= classes {
        return Err(Error::argument(
            "class",
            format!("the network has {classes} classes, got {class}"),
        ));
    }
    let mut v = vec![0f32; n * classes];
    for row in 0..n {
        v[row * classes + class] = 1.0;
    }
    Ok(Tensor::from_data(
        TensorData::new(v, [n, classes, 1, 1]),
        device,
    ))
}

/// The signed map at the input, `[n, c, h, w]`: for `Gradient` this is `∂S_c/∂x`.
/// `acts` is `net.trace(x)`, so that several methods can share one forward pass.
pub fn signed(
    net: &Network,
    acts: &[Tensor<4>],
    class: usize,
    method: Method,
) -> Result<Tensor<4>, Error> {
    let out = &acts[acts.len() - 1];
    let top = one_hot(out.dims(), class, &out.device())?;
    let signals = walk(net, acts, top, &method.composite(net))?;
    Ok(signals[0].clone())
}

/// The paper's saliency map `M_ij = max_c |w_cij|`, `[n, 1, h, w]`.
pub fn saliency(
    net: &Network,
    x: Tensor<4>,
    class: usize,
    method: Method,
) -> Result<Tensor<4>, Error> {
    Ok(signed(net, &net.trace(x), class, method)?.abs().max_dim(1))
}
