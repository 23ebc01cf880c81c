//! ONNX graphs, read at run time: the file is walked from its one input along a chain of
//! supported ops to its output, and each op becomes a burn layer config. Leading Sub/Div/Mul/Add
//! by constants become the input's normalisation, a trailing Softmax is dropped, and anything
//! that is not a plain chain is refused, naming the first node that breaks it. The whole
//! architecture is checked (limits included) before any weight is read.

use std::collections::{HashMap, HashSet};

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d};

use super::protobuf::{Malformed, for_each};
use super::{Format, Imported, Weights, set_weights};
use crate::Error;
use crate::model::config::{
    LayerConfig, MAX_LAYERS, MAX_PARAMETERS, NetworkConfig, NormalizeConfig,
};

/// Most nodes (Constant nodes included) and initializers a graph may have.
const MAX_NODES: usize = 4096;
/// Most dimensions of one tensor, and most values of one integer attribute.
const MAX_DIMS: usize = 16;

const FLOAT: i32 = 1;
const INT64: i32 = 7;

fn malformed(why: impl std::fmt::Display) -> Error {
    Error::file("model", format!("not a valid ONNX file: {why}"))
}

fn refuse(why: impl std::fmt::Display) -> Error {
    Error::file("model", why)
}

/// A tensor stored in the file (an initializer or a Constant node's value), not yet decoded.
struct Stored<'a> {
    name: &'a str,
    dims: Vec<i64>,
    data_type: i32,
    raw: Option<&'a [u8]>,
    external: bool,
    /// The TensorProto itself, read again for `float_data`/`int64_data` when needed.
    proto: &'a [u8],
}

impl<'a> Stored<'a> {
    fn parse(proto: &'a [u8]) -> Result<Self, Malformed> {
        let mut t = Stored {
            name: "",
            dims: Vec::new(),
            data_type: 0,
            raw: None,
            external: false,
            proto,
        };
        for_each(proto, |n, v| {
            match n {
                1 => v.ints("tensor dims", &mut t.dims, MAX_DIMS)?,
                2 => t.data_type = v.int("tensor data type")? as i32,
                8 => t.name = v.text("tensor name")?,
                9 => t.raw = Some(v.bytes("raw data")?),
                13 => t.external = true,
                14 => t.external |= v.int("data location")? == 1,
                _ => {}
            }
            Ok(())
        })?;
        Ok(t)
    }

    /// The number of values, refusing negative and overflowing dimensions.
    fn len(&self) -> Result<usize, Error> {
        self.dims.iter().try_fold(1usize, |n, &d| {
            usize::try_from(d)
                .ok()
                .and_then(|d| n.checked_mul(d))
                .ok_or_else(|| {
                    refuse(format!(
                        "tensor '{}' has dimensions {:?}",
                        self.name, self.dims
                    ))
                })
        })
    }

    fn shape(&self) -> Vec<usize> {
        self.dims.iter().map(|&d| d.max(0) as usize).collect()
    }

    /// The values as f32, after checking that there are at most `limit` of them.
    fn floats(&self, limit: usize) -> Result<Vec<f32>, Error> {
        let n = self.checked(limit, FLOAT, "float32")?;
        let values = match self.raw {
            Some(raw) => {
                if raw.len() != n * 4 {
                    return Err(refuse(format!(
                        "tensor '{}' has {} bytes for {n} floats",
                        self.name,
                        raw.len()
                    )));
                }
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            }
            None => {
                let mut out = Vec::new();
                for_each(self.proto, |f, v| match f {
                    4 => v.floats("float data", &mut out, n),
                    _ => Ok(()),
                })
                .map_err(malformed)?;
                out
            }
        };
        if values.len() != n {
            return Err(refuse(format!(
                "tensor '{}' holds {} values, its dimensions {:?} need {n}",
                self.name,
                values.len(),
                self.dims
            )));
        }
        Ok(values)
    }

    /// The values as i64 (a Reshape's target shape).
    fn ints(&self) -> Result<Vec<i64>, Error> {
        let n = self.checked(MAX_DIMS, INT64, "int64")?;
        let values: Vec<i64> = match self.raw {
            Some(raw) if raw.len() == n * 8 => raw
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
            Some(_) => return Err(refuse(format!("tensor '{}' has the wrong size", self.name))),
            None => {
                let mut out = Vec::new();
                for_each(self.proto, |f, v| match f {
                    7 => v.ints("int64 data", &mut out, n),
                    _ => Ok(()),
                })
                .map_err(malformed)?;
                out
            }
        };
        if values.len() != n {
            return Err(refuse(format!("tensor '{}' has the wrong size", self.name)));
        }
        Ok(values)
    }

    fn checked(&self, limit: usize, data_type: i32, type_name: &str) -> Result<usize, Error> {
        if self.external {
            return Err(refuse(format!(
                "tensor '{}' is stored outside the file; save the model with its weights inside",
                self.name
            )));
        }
        if self.data_type != data_type {
            return Err(refuse(format!(
                "tensor '{}' has ONNX data type {}, not {type_name}",
                self.name, self.data_type
            )));
        }
        let n = self.len()?;
        if n > limit {
            return Err(refuse(format!(
                "tensor '{}' has {n} values, more than {limit}",
                self.name
            )));
        }
        Ok(n)
    }
}

/// A node of the graph, its attributes kept as slices until asked for.
struct Node<'a> {
    name: &'a str,
    op: &'a str,
    domain: &'a str,
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
    attributes: Vec<(&'a str, &'a [u8])>,
}

impl<'a> Node<'a> {
    fn parse(proto: &'a [u8]) -> Result<Self, Malformed> {
        let mut node = Node {
            name: "",
            op: "",
            domain: "",
            inputs: Vec::new(),
            outputs: Vec::new(),
            attributes: Vec::new(),
        };
        for_each(proto, |n, v| {
            match n {
                1 | 2 => {
                    let list = if n == 1 {
                        &mut node.inputs
                    } else {
                        &mut node.outputs
                    };
                    if list.len() >= MAX_DIMS {
                        return Err("a node has too many inputs or outputs".into());
                    }
                    list.push(v.text("node input")?);
                }
                3 => node.name = v.text("node name")?,
                4 => node.op = v.text("op type")?,
                7 => node.domain = v.text("domain")?,
                5 => {
                    if node.attributes.len() >= MAX_DIMS * 2 {
                        return Err("a node has too many attributes".into());
                    }
                    let proto = v.bytes("attribute")?;
                    let mut name = "";
                    for_each(proto, |f, v| {
                        if f == 1 {
                            name = v.text("attribute name")?;
                        }
                        Ok(())
                    })?;
                    node.attributes.push((name, proto));
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(node)
    }

    /// How errors name the node: `'conv_1' (Conv)`.
    fn label(&self) -> String {
        let name = if self.name.is_empty() {
            self.outputs.first().copied().unwrap_or("")
        } else {
            self.name
        };
        format!("node '{name}' ({})", self.op)
    }

    fn refuse(&self, why: impl std::fmt::Display) -> Error {
        refuse(format!("{} {why}", self.label()))
    }

    fn attribute(&self, name: &str) -> Option<&'a [u8]> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    }

    fn int(&self, name: &str, default: i64) -> Result<i64, Error> {
        let Some(proto) = self.attribute(name) else {
            return Ok(default);
        };
        let mut out = default;
        for_each(proto, |f, v| {
            if f == 3 {
                out = v.int(name)?;
            }
            Ok(())
        })
        .map_err(malformed)?;
        Ok(out)
    }

    fn float(&self, name: &str, default: f32) -> Result<f32, Error> {
        let Some(proto) = self.attribute(name) else {
            return Ok(default);
        };
        let mut out = default;
        for_each(proto, |f, v| {
            if f == 2 {
                out = v.float(name)?;
            }
            Ok(())
        })
        .map_err(malformed)?;
        Ok(out)
    }

    fn text(&self, name: &str) -> Result<Option<&'a str>, Error> {
        let Some(proto) = self.attribute(name) else {
            return Ok(None);
        };
        let mut out = None;
        for_each(proto, |f, v| {
            if f == 4 {
                out = Some(v.text(name)?);
            }
            Ok(())
        })
        .map_err(malformed)?;
        Ok(out)
    }

    fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, Error> {
        let Some(proto) = self.attribute(name) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for_each(proto, |f, v| {
            if f == 8 {
                v.ints(name, &mut out, MAX_DIMS)?;
            }
            Ok(())
        })
        .map_err(malformed)?;
        Ok(Some(out))
    }

    /// A 2-D attribute (`kernel_shape`, `strides`, ...) as sizes, `default` when absent.
    fn pair(&self, name: &str, default: usize) -> Result<[usize; 2], Error> {
        match self.ints(name)? {
            None => Ok([default; 2]),
            Some(v) => match v[..] {
                [a, b] if a >= 0 && b >= 0 => Ok([a as usize, b as usize]),
                _ => Err(self.refuse(format!("has {name} {v:?}; only 2-D images are supported"))),
            },
        }
    }

    /// `pads` and `auto_pad` as burn's padding.
    fn padding(
        &self,
        input: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
    ) -> Result<PaddingConfig2d, Error> {
        match self.text("auto_pad")? {
            None | Some("NOTSET") => {}
            Some("VALID") => return Ok(PaddingConfig2d::Valid),
            Some("SAME_UPPER" | "SAME_LOWER") => {
                let mut pad = [0; 2];
                for axis in 0..2 {
                    let n = input[axis + 1];
                    let span = dilation[axis] * (kernel[axis].max(1) - 1) + 1;
                    let out = n.div_ceil(stride[axis].max(1));
                    let total = ((out.saturating_sub(1)) * stride[axis] + span).saturating_sub(n);
                    if !total.is_multiple_of(2) {
                        return Err(self.refuse("pads one side more than the other; only symmetric padding is supported"));
                    }
                    pad[axis] = total / 2;
                }
                return Ok(PaddingConfig2d::Explicit(pad[0], pad[1], pad[0], pad[1]));
            }
            Some(other) => return Err(self.refuse(format!("has auto_pad {other:?}"))),
        }
        match self.ints("pads")? {
            None => Ok(PaddingConfig2d::Valid),
            Some(p) => match p[..] {
                [t, l, b, r] if p.iter().all(|&v| v >= 0) => Ok(PaddingConfig2d::Explicit(
                    t as usize, l as usize, b as usize, r as usize,
                )),
                _ => Err(self.refuse(format!("has pads {p:?}"))),
            },
        }
    }
}

/// The parts of the file the reader uses.
struct Graph<'a> {
    nodes: Vec<Node<'a>>,
    stored: HashMap<&'a str, Stored<'a>>,
    inputs: Vec<(&'a str, Vec<Option<i64>>)>,
    outputs: Vec<&'a str>,
    class_names: Option<&'a str>,
}

fn parse(bytes: &[u8]) -> Result<Graph<'_>, Malformed> {
    let mut graph_proto = None;
    let mut class_names = None;
    for_each(bytes, |n, v| {
        match n {
            7 => graph_proto = Some(v.bytes("graph")?),
            14 => {
                let (mut key, mut value) = ("", "");
                for_each(v.bytes("metadata")?, |f, v| {
                    match f {
                        1 => key = v.text("metadata key")?,
                        2 => value = v.text("metadata value")?,
                        _ => {}
                    }
                    Ok(())
                })?;
                if key == "class_names" {
                    class_names = Some(value);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    let graph_proto = graph_proto.ok_or("there is no graph in it")?;
    let mut graph = Graph {
        nodes: Vec::new(),
        stored: HashMap::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        class_names,
    };
    let mut count = 0usize;
    for_each(graph_proto, |n, v| {
        if matches!(n, 1 | 5 | 11 | 12) {
            count += 1;
            if count > MAX_NODES {
                return Err(format!(
                    "the graph has more than {MAX_NODES} nodes, initializers and inputs"
                ));
            }
        }
        match n {
            1 => graph.nodes.push(Node::parse(v.bytes("node")?)?),
            5 => {
                let t = Stored::parse(v.bytes("initializer")?)?;
                graph.stored.insert(t.name, t);
            }
            11 => graph.inputs.push(value_info(v.bytes("input")?)?),
            12 => graph.outputs.push(value_info(v.bytes("output")?)?.0),
            15 => return Err("sparse initializers are not supported".into()),
            _ => {}
        }
        Ok(())
    })?;
    Ok(graph)
}

/// A graph input's or output's name and dimensions (`None` for a symbolic one).
fn value_info(proto: &[u8]) -> Result<(&str, Vec<Option<i64>>), Malformed> {
    let mut name = "";
    let mut dims = Vec::new();
    for_each(proto, |n, v| {
        match n {
            1 => name = v.text("value name")?,
            2 => for_each(v.bytes("type")?, |f, v| {
                if f == 1 {
                    for_each(v.bytes("tensor type")?, |f, v| {
                        if f == 2 {
                            for_each(v.bytes("shape")?, |f, v| {
                                if f == 1 {
                                    if dims.len() >= MAX_DIMS {
                                        return Err("an input has too many dimensions".into());
                                    }
                                    let mut dim = None;
                                    for_each(v.bytes("dimension")?, |f, v| {
                                        if f == 1 {
                                            dim = Some(v.int("dimension")?);
                                        }
                                        Ok(())
                                    })?;
                                    dims.push(dim);
                                }
                                Ok(())
                            })?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok((name, dims))
}

/// Where a weighted layer's values come from, read once the architecture has passed.
enum Source<'g, 'a> {
    Conv {
        weight: &'g Stored<'a>,
        bias: Option<&'g Stored<'a>>,
    },
    /// `weight` is `[in, out]`, or `[out, in]` when `transposed`; scaled by Gemm's α and β.
    Linear {
        weight: &'g Stored<'a>,
        transposed: bool,
        alpha: f32,
        bias: Option<(&'g Stored<'a>, f32)>,
    },
    BatchNorm([&'g Stored<'a>; 4]),
}

/// The chain's state as it is read: the layers so far and the shape after them.
struct Chain<'g, 'a> {
    input: [usize; 3],
    layers: Vec<LayerConfig>,
    sources: Vec<(usize, String, Source<'g, 'a>)>,
    shape: [usize; 3],
    /// The leading affine map `x·scale + shift`, per channel, while no layer has come yet.
    affine: Option<(Vec<f32>, Vec<f32>)>,
    notes: Vec<String>,
}

impl Chain<'_, '_> {
    fn push(&mut self, node: &Node, layer: LayerConfig) -> Result<(), Error> {
        self.flush_affine(node)?;
        if self.layers.len() >= MAX_LAYERS {
            return Err(refuse(format!(
                "the network has more than {MAX_LAYERS} layers"
            )));
        }
        let previous = self.layers.last().map(|l| l.kind());
        let (shape, _) = crate::model::config::layer_shape(&layer, self.shape, previous)
            .map_err(|why| node.refuse(why))?;
        self.shape = shape;
        self.layers.push(layer);
        Ok(())
    }

    /// Turns the leading affine map into the first layer, `Normalize`.
    fn flush_affine(&mut self, node: &Node) -> Result<(), Error> {
        let Some((scale, shift)) = self.affine.take() else {
            return Ok(());
        };
        if scale.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(node.refuse(
                "follows an input normalisation that scales by zero, a negative or a non-finite number",
            ));
        }
        let std: Vec<f32> = scale.iter().map(|s| 1.0 / s).collect();
        let mean: Vec<f32> = shift.iter().zip(&scale).map(|(b, s)| -b / s).collect();
        self.layers
            .push(LayerConfig::Normalize(NormalizeConfig::new(mean, std)));
        Ok(())
    }
}

pub(super) fn read(bytes: &[u8]) -> Result<Imported, Error> {
    let graph = parse(bytes).map_err(|why| {
        // Every ONNX exporter writes the IR version (field 1, a varint: byte 0x08) first.
        if bytes.first() != Some(&0x08) {
            refuse(format!(
                "this is neither an ONNX nor a safetensors file (as ONNX: {why})"
            ))
        } else {
            malformed(why)
        }
    })?;
    // Constant nodes' values count as stored tensors.
    let mut constants = HashMap::new();
    for node in &graph.nodes {
        if node.op == "Constant" {
            let value = node
                .attribute("value")
                .ok_or_else(|| node.refuse("has no tensor value"))?;
            let mut t = None;
            for_each(value, |f, v| {
                if f == 5 {
                    t = Some(Stored::parse(v.bytes("constant")?)?);
                }
                Ok(())
            })
            .map_err(malformed)?;
            let mut t = t.ok_or_else(|| node.refuse("has no tensor value"))?;
            let out = node.outputs.first().copied().unwrap_or("");
            t.name = out;
            constants.insert(out, t);
        }
    }
    let stored = |name: &str| graph.stored.get(name).or_else(|| constants.get(name));
    let is_data = |name: &str| !name.is_empty() && stored(name).is_none();

    let inputs: Vec<_> = graph.inputs.iter().filter(|(n, _)| is_data(n)).collect();
    let [(input_name, dims)] = inputs[..] else {
        let names: Vec<&str> = inputs.iter().map(|(n, _)| *n).collect();
        return Err(refuse(format!(
            "the graph has {} inputs ({}); only networks with one image input are supported",
            names.len(),
            names.join(", ")
        )));
    };
    let input = match dims[..] {
        [_, Some(c), Some(h), Some(w)] if c > 0 && h > 0 && w > 0 => {
            [c as usize, h as usize, w as usize]
        }
        _ => {
            return Err(refuse(format!(
                "input '{input_name}' has dimensions {dims:?}; it must be [batch, channels, height, width] with fixed channels, height and width"
            )));
        }
    };
    // The architecture's checks on the input come before anything else is done with it.
    NetworkConfig::check_input(input)?;
    let [output] = graph.outputs[..] else {
        return Err(refuse(format!(
            "the graph has {} outputs; only networks with one output are supported",
            graph.outputs.len()
        )));
    };

    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        for name in node.inputs.iter().filter(|n| is_data(n)) {
            let users = consumers.entry(name).or_default();
            if users.last() != Some(&i) {
                users.push(i);
            }
        }
    }

    let mut chain = Chain {
        input,
        layers: Vec::new(),
        sources: Vec::new(),
        shape: input,
        affine: None,
        notes: Vec::new(),
    };
    let mut visited = HashSet::new();
    let mut current = *input_name;
    // Whether the last layer is a MatMul's, waiting for the Add that gives its bias.
    let mut after_matmul = false;
    while current != output {
        let users = consumers.get(current).map_or(&[][..], |u| &u[..]);
        let node = match users {
            [] => {
                return Err(refuse(format!(
                    "tensor '{current}' is used by no node and is not the graph's output"
                )));
            }
            [i] => &graph.nodes[*i],
            many => {
                let names: Vec<String> = many.iter().map(|&i| graph.nodes[i].label()).collect();
                return Err(refuse(format!(
                    "tensor '{current}' feeds {} nodes ({}); only sequential networks are supported",
                    many.len(),
                    names.join(", ")
                )));
            }
        };
        if !visited.insert(node as *const Node as usize) {
            return Err(node.refuse("closes a cycle"));
        }
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(node.refuse(format!("is from op set {:?}, not ONNX's", node.domain)));
        }
        let data: Vec<&str> = node.inputs.iter().copied().filter(|n| is_data(n)).collect();
        if data.len() > 1 {
            return Err(node.refuse("joins two branches; only sequential networks are supported"));
        }
        if node.inputs.first().copied() != Some(current) && !matches!(node.op, "Add" | "Mul") {
            return Err(node.refuse(format!(
                "takes '{current}' in a place other than its first input"
            )));
        }
        let constant = |k: usize| -> Option<&Stored> { node.inputs.get(k).and_then(|n| stored(n)) };
        // Only the node right after a MatMul can be its bias.
        let is_matmul_bias = std::mem::take(&mut after_matmul) && node.op == "Add";
        match node.op {
            "Sub" | "Div" | "Mul" | "Add" if chain.layers.is_empty() || is_matmul_bias => {
                let other = node
                    .inputs
                    .iter()
                    .find(|n| **n != current)
                    .and_then(|n| stored(n))
                    .ok_or_else(|| node.refuse("needs a constant operand"))?;
                if is_matmul_bias {
                    let Some((_, _, Source::Linear { bias, .. })) = chain.sources.last_mut() else {
                        return Err(node.refuse("follows a MatMul it cannot be the bias of"));
                    };
                    *bias = Some((other, 1.0));
                    if let Some(LayerConfig::Linear(l)) = chain.layers.last_mut() {
                        l.bias = true;
                    }
                } else {
                    if matches!(node.op, "Sub" | "Div") && node.inputs.first() != Some(&current) {
                        return Err(node.refuse("subtracts or divides the input from a constant; only (x − a) / b normalisation is supported"));
                    }
                    let c = input[0];
                    let values = other.floats(c)?;
                    let per_channel: Vec<f32> = match values.len() {
                        1 => vec![values[0]; c],
                        n if n == c && other.len()? == c => values,
                        _ => return Err(node.refuse(format!("has a constant of shape {:?}; a normalisation has one value or one per channel", other.dims))),
                    };
                    let (scale, shift) = chain
                        .affine
                        .get_or_insert_with(|| (vec![1.0; c], vec![0.0; c]));
                    for ch in 0..c {
                        let v = per_channel[ch];
                        match node.op {
                            "Sub" => shift[ch] -= v,
                            "Add" => shift[ch] += v,
                            "Mul" => {
                                scale[ch] *= v;
                                shift[ch] *= v;
                            }
                            _ => {
                                scale[ch] /= v;
                                shift[ch] /= v;
                            }
                        }
                    }
                }
            }
            "Sub" | "Div" | "Mul" | "Add" => {
                return Err(node.refuse(
                    "comes after the first layer; only input normalisation (before any layer) and a MatMul's bias are supported",
                ));
            }
            "Conv" => {
                let weight = constant(1).ok_or_else(|| node.refuse("needs a constant weight"))?;
                let bias = constant(2);
                let w = weight.shape();
                let [out, inputs, kh, kw] = w[..] else {
                    return Err(node.refuse(format!(
                        "has a weight of shape {:?}; only 2-D convolutions are supported",
                        weight.dims
                    )));
                };
                let groups = node.int("group", 1)?;
                if groups != 1 {
                    return Err(
                        node.refuse(format!("has {groups} groups; only group = 1 is supported"))
                    );
                }
                let kernel = node.pair("kernel_shape", 0)?;
                if kernel != [0, 0] && kernel != [kh, kw] {
                    return Err(node.refuse("has a kernel_shape that disagrees with its weight"));
                }
                let stride = node.pair("strides", 1)?;
                let dilation = node.pair("dilations", 1)?;
                let padding = node.padding(chain.shape, [kh, kw], stride, dilation)?;
                let config = Conv2dConfig::new([inputs, out], [kh, kw])
                    .with_stride(stride)
                    .with_dilation(dilation)
                    .with_padding(padding)
                    .with_bias(bias.is_some());
                chain.push(node, LayerConfig::Conv(config))?;
                chain.sources.push((
                    chain.layers.len() - 1,
                    node.label(),
                    Source::Conv { weight, bias },
                ));
            }
            "Gemm" | "MatMul" => {
                let weight = constant(1).ok_or_else(|| node.refuse("needs a constant weight"))?;
                let gemm = node.op == "Gemm";
                if gemm && node.int("transA", 0)? != 0 {
                    return Err(node.refuse("transposes its input (transA = 1)"));
                }
                let transposed = gemm && node.int("transB", 0)? != 0;
                let [a, b] = weight.shape()[..] else {
                    return Err(node.refuse(format!(
                        "has a weight of shape {:?}; it must be 2-D",
                        weight.dims
                    )));
                };
                let (inputs, out) = if transposed { (b, a) } else { (a, b) };
                let (alpha, beta) = if gemm {
                    (node.float("alpha", 1.0)?, node.float("beta", 1.0)?)
                } else {
                    (1.0, 1.0)
                };
                let bias = if gemm {
                    constant(2).map(|c| (c, beta))
                } else {
                    None
                };
                let config = LinearConfig::new(inputs, out).with_bias(bias.is_some());
                chain.push(node, LayerConfig::Linear(config))?;
                chain.sources.push((
                    chain.layers.len() - 1,
                    node.label(),
                    Source::Linear {
                        weight,
                        transposed,
                        alpha,
                        bias,
                    },
                ));
                if !gemm {
                    after_matmul = true;
                }
            }
            "Relu" => chain.push(node, LayerConfig::Relu)?,
            "MaxPool" | "AveragePool" => {
                let kernel = node.pair("kernel_shape", 0)?;
                let stride = node.pair("strides", 1)?;
                let dilation = node.pair("dilations", 1)?;
                if node.int("ceil_mode", 0)? != 0 {
                    return Err(node.refuse("uses ceil_mode; only floor is supported"));
                }
                let padding = node.padding(chain.shape, kernel, stride, dilation)?;
                let layer = if node.op == "MaxPool" {
                    LayerConfig::MaxPool(
                        MaxPool2dConfig::new(kernel)
                            .with_strides(stride)
                            .with_dilation(dilation)
                            .with_padding(padding),
                    )
                } else {
                    if dilation != [1, 1] {
                        return Err(node.refuse("is dilated; average pools are not"));
                    }
                    LayerConfig::AvgPool(
                        AvgPool2dConfig::new(kernel)
                            .with_strides(stride)
                            .with_padding(padding)
                            .with_count_include_pad(node.int("count_include_pad", 0)? != 0),
                    )
                };
                chain.push(node, layer)?;
            }
            "GlobalAveragePool" => chain.push(node, LayerConfig::GlobalAvgPool)?,
            // PyTorch's newer exporter writes AdaptiveAvgPool2d(1) as a mean over the height and
            // width (axes an attribute before opset 18, an input from it on).
            "ReduceMean" => {
                let axes = match constant(1) {
                    Some(t) => t.ints()?,
                    None => node.ints("axes")?.unwrap_or_default(),
                };
                let mut axes: Vec<i64> = axes
                    .iter()
                    .map(|&a| if a < 0 { a + 4 } else { a })
                    .collect();
                axes.sort_unstable();
                if axes != [2, 3] {
                    return Err(node.refuse(format!(
                        "averages over axes {axes:?}; only the mean over height and width (global average pooling) is supported"
                    )));
                }
                chain.push(node, LayerConfig::GlobalAvgPool)?;
            }
            "Flatten" => {
                let axis = node.int("axis", 1)?;
                if axis != 1 {
                    return Err(node.refuse(format!(
                        "flattens from axis {axis}; only axis 1 is supported"
                    )));
                }
                chain.push(node, LayerConfig::Flatten)?;
            }
            "Reshape" => {
                let target = constant(1)
                    .ok_or_else(|| {
                        node.refuse(
                            "has a computed shape; export with a constant shape, or use Flatten",
                        )
                    })?
                    .ints()?;
                let [c, h, w] = chain.shape;
                let features = (c * h * w) as i64;
                match target[..] {
                    [b, f]
                        if (-1..=1).contains(&b)
                            && (f == features || f == -1)
                            && !(b == -1 && f == -1) =>
                    {
                        chain.push(node, LayerConfig::Flatten)?;
                    }
                    _ => {
                        return Err(node.refuse(format!(
                            "reshapes to {target:?}; only a flatten to [batch, {features}] is supported"
                        )));
                    }
                }
            }
            "BatchNormalization" => {
                let parts: Option<Vec<&Stored>> = (1..5).map(&constant).collect();
                let parts = parts
                    .ok_or_else(|| node.refuse("needs constant scale, bias, mean and variance"))?;
                if node.outputs.len() > 1 && node.outputs[1..].iter().any(|o| !o.is_empty()) {
                    return Err(node.refuse("is in training mode"));
                }
                let features = parts[0].len()?;
                let epsilon = node.float("epsilon", 1e-5)?;
                let config = BatchNormConfig::new(features)
                    .with_epsilon(f64::from(epsilon))
                    .with_momentum(f64::from(node.float("momentum", 0.9)?.clamp(0.0, 1.0)));
                chain.push(node, LayerConfig::BatchNorm(config))?;
                chain.sources.push((
                    chain.layers.len() - 1,
                    node.label(),
                    Source::BatchNorm([parts[0], parts[1], parts[2], parts[3]]),
                ));
            }
            "Dropout" => {
                let ratio = match constant(1) {
                    Some(r) => r.floats(1)?.first().copied().unwrap_or(0.5),
                    None => node.float("ratio", 0.5)?,
                };
                let ratio = if ratio.is_finite() && (0.0..1.0).contains(&ratio) {
                    ratio
                } else {
                    0.5
                };
                chain.push(
                    node,
                    LayerConfig::Dropout(DropoutConfig::new(f64::from(ratio))),
                )?;
            }
            "Identity" => {}
            "Softmax" | "LogSoftmax" => {
                if node.outputs.first() != Some(&output) {
                    return Err(
                        node.refuse("is not the last node; a softmax is only dropped at the end")
                    );
                }
                chain.notes.push(format!(
                    "The final {} was dropped: explanations start from the logits.",
                    node.op
                ));
            }
            _ => {
                return Err(node.refuse(
                    "is not supported; the supported ops are Conv, Relu, MaxPool, AveragePool, GlobalAveragePool (or ReduceMean over height and width), Flatten, Reshape, Gemm, MatMul+Add, BatchNormalization, Dropout, Identity, a final Softmax, and Sub/Div/Mul/Add by constants before the first layer",
                ));
            }
        }
        for extra in node.outputs.iter().skip(1).filter(|o| !o.is_empty()) {
            if consumers.contains_key(extra) || *extra == output {
                return Err(node.refuse(format!("has a second output '{extra}' in use")));
            }
        }
        current = node.outputs.first().copied().unwrap_or("");
        if current.is_empty() {
            return Err(node.refuse("has no output"));
        }
    }
    if let Some(node) = graph
        .nodes
        .iter()
        .find(|n| n.op != "Constant" && !visited.contains(&(*n as *const Node as usize)))
    {
        return Err(node.refuse("is not on the path from the input to the output; only sequential networks are supported"));
    }
    if chain.affine.is_some() {
        return Err(refuse("the graph has a normalisation and no layers"));
    }

    let class_names = match graph.class_names {
        None => Vec::new(),
        Some(json) => {
            let names: Vec<String> = serde_json::from_str(json).map_err(|e| {
                refuse(format!(
                    "the metadata's class_names is not a JSON list of strings: {e}"
                ))
            })?;
            names
        }
    };
    let mut config = NetworkConfig::new(chain.input, chain.layers).with_class_names(class_names);
    // The whole architecture, with its limits, before any weight is read.
    if let Err(e) = config.check() {
        if !config.class_names.is_empty()
            && config.clone().with_class_names(Vec::new()).check().is_ok()
        {
            chain
                .notes
                .push(format!("The class names in the file were ignored: {e}"));
            config.class_names = Vec::new();
        } else {
            return Err(e);
        }
    }
    let mut network = config.init(&crate::backend::cpu())?;
    for (index, label, source) in chain.sources {
        let weights = match source {
            Source::Conv { weight, bias } => Weights::Conv {
                weight: weight.floats(MAX_PARAMETERS)?,
                bias: bias.map(|b| b.floats(MAX_PARAMETERS)).transpose()?,
            },
            Source::Linear {
                weight,
                transposed,
                alpha,
                bias,
            } => {
                let shape = weight.shape();
                let mut values = weight.floats(MAX_PARAMETERS)?;
                if transposed {
                    values = transpose(&values, shape[0], shape[1]);
                }
                if alpha != 1.0 {
                    values.iter_mut().for_each(|v| *v *= alpha);
                }
                let bias = match bias {
                    None => None,
                    Some((b, beta)) => {
                        let mut v = b.floats(MAX_PARAMETERS)?;
                        if b.dims.len() > 2 || (b.dims.len() == 2 && b.dims[0] != 1) {
                            return Err(refuse(format!(
                                "{label}: its bias has shape {:?}",
                                b.dims
                            )));
                        }
                        v.iter_mut().for_each(|x| *x *= beta);
                        Some(v)
                    }
                };
                Weights::Linear {
                    weight: values,
                    bias,
                }
            }
            Source::BatchNorm([scale, bias, mean, var]) => Weights::BatchNorm {
                gamma: scale.floats(MAX_PARAMETERS)?,
                beta: bias.floats(MAX_PARAMETERS)?,
                mean: mean.floats(MAX_PARAMETERS)?,
                var: var.floats(MAX_PARAMETERS)?,
            },
        };
        set_weights(&mut network, index, weights, &label)?;
    }
    Ok(Imported {
        config,
        network,
        format: Format::Onnx,
        notes: chain.notes,
    })
}

/// `[rows, cols]` → `[cols, rows]`, row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}
