//! A minimal ONNX writer for the tests: enough protobuf to build graphs by hand, valid ones
//! and hostile ones, independently of the reader under test.

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

pub fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub fn int_field(out: &mut Vec<u8>, field: u32, v: i64) {
    key(out, field, 0);
    varint(out, v as u64);
}

fn float_field(out: &mut Vec<u8>, field: u32, v: f32) {
    key(out, field, 5);
    out.extend_from_slice(&v.to_le_bytes());
}

/// A float32 TensorProto with its values in `raw_data`.
pub fn tensor(name: &str, dims: &[i64], values: &[f32]) -> Vec<u8> {
    let mut t = Vec::new();
    for &d in dims {
        int_field(&mut t, 1, d);
    }
    int_field(&mut t, 2, 1);
    bytes_field(&mut t, 8, name.as_bytes());
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes_field(&mut t, 9, &raw);
    t
}

/// An int64 TensorProto (a Reshape's shape).
pub fn int_tensor(name: &str, values: &[i64]) -> Vec<u8> {
    let mut t = Vec::new();
    int_field(&mut t, 1, values.len() as i64);
    int_field(&mut t, 2, 7);
    bytes_field(&mut t, 8, name.as_bytes());
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes_field(&mut t, 9, &raw);
    t
}

pub enum Attr<'a> {
    Int(i64),
    Float(f32),
    Ints(&'a [i64]),
}

pub fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: &[(&str, Attr)],
) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        bytes_field(&mut n, 1, i.as_bytes());
    }
    for o in outputs {
        bytes_field(&mut n, 2, o.as_bytes());
    }
    bytes_field(&mut n, 3, name.as_bytes());
    bytes_field(&mut n, 4, op.as_bytes());
    for (attr_name, value) in attrs {
        let mut a = Vec::new();
        bytes_field(&mut a, 1, attr_name.as_bytes());
        match value {
            Attr::Int(v) => {
                int_field(&mut a, 3, *v);
                int_field(&mut a, 20, 2);
            }
            Attr::Float(v) => {
                float_field(&mut a, 2, *v);
                int_field(&mut a, 20, 1);
            }
            Attr::Ints(vs) => {
                for v in *vs {
                    int_field(&mut a, 8, *v);
                }
                int_field(&mut a, 20, 7);
            }
        }
        bytes_field(&mut n, 5, &a);
    }
    n
}

/// A ValueInfoProto for a float tensor of `dims` (negative: symbolic).
pub fn value_info(name: &str, dims: &[i64]) -> Vec<u8> {
    let mut shape = Vec::new();
    for &d in dims {
        let mut dim = Vec::new();
        if d >= 0 {
            int_field(&mut dim, 1, d);
        } else {
            bytes_field(&mut dim, 2, b"batch");
        }
        bytes_field(&mut shape, 1, &dim);
    }
    let mut tensor_type = Vec::new();
    int_field(&mut tensor_type, 1, 1);
    bytes_field(&mut tensor_type, 2, &shape);
    let mut type_proto = Vec::new();
    bytes_field(&mut type_proto, 1, &tensor_type);
    let mut v = Vec::new();
    bytes_field(&mut v, 1, name.as_bytes());
    bytes_field(&mut v, 2, &type_proto);
    v
}

/// A graph being built: nodes, initializers, one input `input` and one output.
#[derive(Default)]
pub struct Graph {
    pub nodes: Vec<Vec<u8>>,
    pub initializers: Vec<Vec<u8>>,
    pub inputs: Vec<Vec<u8>>,
    pub outputs: Vec<Vec<u8>>,
    pub metadata: Vec<(String, String)>,
}

impl Graph {
    pub fn model(&self) -> Vec<u8> {
        let mut g = Vec::new();
        for n in &self.nodes {
            bytes_field(&mut g, 1, n);
        }
        bytes_field(&mut g, 2, b"graph");
        for t in &self.initializers {
            bytes_field(&mut g, 5, t);
        }
        for i in &self.inputs {
            bytes_field(&mut g, 11, i);
        }
        for o in &self.outputs {
            bytes_field(&mut g, 12, o);
        }
        let mut m = Vec::new();
        int_field(&mut m, 1, 8);
        let mut opset = Vec::new();
        int_field(&mut opset, 2, 17);
        bytes_field(&mut m, 8, &opset);
        bytes_field(&mut m, 7, &g);
        for (k, v) in &self.metadata {
            let mut e = Vec::new();
            bytes_field(&mut e, 1, k.as_bytes());
            bytes_field(&mut e, 2, v.as_bytes());
            bytes_field(&mut m, 14, &e);
        }
        m
    }
}
