//! The part of the protobuf wire format that ONNX files need, read in place: every field is a
//! slice of the file, every length is checked against what is left before it is used, and
//! nothing is allocated for a field until the caller asks for it. A small reader rather than a
//! protobuf crate: ONNX needs five message types, and the generated code of a full schema would
//! cost the page more than the whole reader.

/// A field's value as the wire format gives it.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Why a message could not be read.
pub type Malformed = String;

/// The fields of one message, in file order.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = *self
                .buf
                .get(self.pos)
                .ok_or("a number runs past the end of the file")?;
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err("a number is longer than 64 bits".into());
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number is longer than 64 bits".into())
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Malformed> {
        let left = self.buf.len() - self.pos;
        if n > left as u64 {
            return Err(format!(
                "a field of {n} bytes runs past the end ({left} bytes left)"
            ));
        }
        let out = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(out)
    }

    /// The next field and its number, or `None` at the end.
    pub fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, Malformed> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| "a field number is too large")?;
        if number == 0 {
            return Err("field number 0 is not valid".into());
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().unwrap_or_default(),
            )),
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().unwrap_or_default(),
            )),
            other => return Err(format!("wire type {other} is not supported")),
        };
        Ok(Some((number, value)))
    }
}

/// Calls `each` with every field of `buf`.
pub fn for_each<'a>(
    buf: &'a [u8],
    mut each: impl FnMut(u32, Value<'a>) -> Result<(), Malformed>,
) -> Result<(), Malformed> {
    let mut fields = Fields::new(buf);
    while let Some((number, value)) = fields.next_field()? {
        each(number, value)?;
    }
    Ok(())
}

impl<'a> Value<'a> {
    pub fn bytes(self, what: &str) -> Result<&'a [u8], Malformed> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(format!("{what} is not a length-delimited field")),
        }
    }

    pub fn text(self, what: &str) -> Result<&'a str, Malformed> {
        std::str::from_utf8(self.bytes(what)?).map_err(|_| format!("{what} is not UTF-8"))
    }

    pub fn int(self, what: &str) -> Result<i64, Malformed> {
        match self {
            Value::Varint(v) => Ok(v as i64),
            _ => Err(format!("{what} is not an integer field")),
        }
    }

    pub fn float(self, what: &str) -> Result<f32, Malformed> {
        match self {
            Value::Fixed32(v) => Ok(f32::from_bits(v)),
            _ => Err(format!("{what} is not a float field")),
        }
    }

    /// A repeated integer field, packed or not, appended to `out` (at most `limit` values).
    pub fn ints(self, what: &str, out: &mut Vec<i64>, limit: usize) -> Result<(), Malformed> {
        match self {
            Value::Varint(v) => out.push(v as i64),
            Value::Bytes(b) => {
                let mut fields = Fields::new(b);
                while fields.pos < b.len() {
                    if out.len() >= limit {
                        return Err(format!("{what} has more than {limit} values"));
                    }
                    out.push(fields.varint()? as i64);
                }
            }
            _ => return Err(format!("{what} is not an integer list")),
        }
        if out.len() > limit {
            return Err(format!("{what} has more than {limit} values"));
        }
        Ok(())
    }

    /// A repeated float field, packed or not, appended to `out` (at most `limit` values).
    pub fn floats(self, what: &str, out: &mut Vec<f32>, limit: usize) -> Result<(), Malformed> {
        match self {
            Value::Fixed32(v) => out.push(f32::from_bits(v)),
            Value::Bytes(b) => {
                if b.len() % 4 != 0 {
                    return Err(format!("{what} is not a whole number of floats"));
                }
                if out.len() + b.len() / 4 > limit {
                    return Err(format!("{what} has more than {limit} values"));
                }
                out.extend(
                    b.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
            }
            _ => return Err(format!("{what} is not a float list")),
        }
        if out.len() > limit {
            return Err(format!("{what} has more than {limit} values"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type_and_refuses_overruns() {
        // field 1 varint 300, field 2 bytes "hi", field 3 fixed32 1.5
        let mut buf = vec![0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1d];
        buf.extend(1.5f32.to_le_bytes());
        let mut seen = Vec::new();
        for_each(&buf, |n, v| {
            seen.push(match (n, v) {
                (1, v) => v.int("a")?.to_string(),
                (2, v) => v.text("b")?.to_string(),
                (3, v) => v.float("c")?.to_string(),
                _ => unreachable!(),
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, ["300", "hi", "1.5"]);
        // A length pointing past the end, and a number that never ends.
        assert!(for_each(&[0x12, 0x05, b'h'], |_, _| Ok(())).is_err());
        assert!(for_each(&[0x08, 0xff, 0xff], |_, _| Ok(())).is_err());
        let long: Vec<u8> = std::iter::once(0x08).chain([0xff; 11]).collect();
        assert!(for_each(&long, |_, _| Ok(())).is_err());
    }
}
