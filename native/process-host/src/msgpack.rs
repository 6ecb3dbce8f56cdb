//! The subset of MessagePack that daemon/plugins/pipe-frames.ts speaks (msgpackr with
//! `moreTypes`, no records): nil, booleans, numbers, strings, binaries, arrays, maps, and the
//! two extensions msgpackr writes for what JSON lacks, `undefined` (fixext 1, type 0) and typed
//! arrays (ext type 0x74, then msgpackr's typed-array index, which is also Node-API's
//! `napi_typedarray_type`, then the elements' bytes).

#[derive(Debug, Clone, PartialEq)]
pub enum Mp {
    Undefined,
    Nil,
    Bool(bool),
    Number(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Mp>),
    Map(Vec<(String, Mp)>),
    /// A typed array: its `napi_typedarray_type` and its bytes.
    Typed(i32, Vec<u8>),
}

const TYPED_ARRAY_EXT: u8 = 0x74;

impl Mp {
    /// The field `key` of a map (the last one, as a JS object would keep).
    pub fn get(&self, key: &str) -> Option<&Mp> {
        match self {
            Mp::Map(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Mp::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn num(&self, key: &str) -> Option<f64> {
        match self.get(key) {
            Some(Mp::Number(n)) => Some(*n),
            _ => None,
        }
    }
}

pub fn decode(bytes: &[u8]) -> Result<Mp, String> {
    let mut r = Reader { bytes, at: 0 };
    let v = r.value(0)?;
    if r.at != bytes.len() {
        return Err(format!("{} bytes after the message", bytes.len() - r.at));
    }
    Ok(v)
}

/// Deeper than this is a broken peer, not a message (and would overflow the stack).
const MAX_DEPTH: usize = 256;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("the message ends early")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    fn value(&mut self, depth: usize) -> Result<Mp, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the message is nested deeper than {MAX_DEPTH} levels"));
        }
        let b = self.take(1)?[0];
        Ok(match b {
            0x00..=0x7f => Mp::Number(b as f64),
            0x80..=0x8f => self.map((b & 0x0f) as usize, depth)?,
            0x90..=0x9f => self.array((b & 0x0f) as usize, depth)?,
            0xa0..=0xbf => self.string((b & 0x1f) as usize)?,
            0xc0 => Mp::Nil,
            0xc2 => Mp::Bool(false),
            0xc3 => Mp::Bool(true),
            0xc4..=0xc6 => {
                let n = self.uint(1 << (b - 0xc4))? as usize;
                Mp::Bin(self.take(n)?.to_vec())
            }
            0xc7..=0xc9 => {
                let n = self.uint(1 << (b - 0xc7))? as usize;
                self.ext(n)?
            }
            0xca => Mp::Number(f32::from_bits(self.uint(4)? as u32) as f64),
            0xcb => Mp::Number(f64::from_bits(self.uint(8)?)),
            0xcc..=0xcf => Mp::Number(self.uint(1 << (b - 0xcc))? as f64),
            0xd0 => Mp::Number(self.uint(1)? as u8 as i8 as f64),
            0xd1 => Mp::Number(self.uint(2)? as u16 as i16 as f64),
            0xd2 => Mp::Number(self.uint(4)? as u32 as i32 as f64),
            0xd3 => Mp::Number(self.uint(8)? as i64 as f64),
            0xd4..=0xd8 => self.ext(1 << (b - 0xd4))?,
            0xd9..=0xdb => {
                let n = self.uint(1 << (b - 0xd9))? as usize;
                self.string(n)?
            }
            0xdc | 0xdd => {
                let n = self.uint(if b == 0xdc { 2 } else { 4 })? as usize;
                self.array(n, depth)?
            }
            0xde | 0xdf => {
                let n = self.uint(if b == 0xde { 2 } else { 4 })? as usize;
                self.map(n, depth)?
            }
            0xe0..=0xff => Mp::Number((b as i8) as f64),
            0xc1 => return Err("byte 0xc1 is not MessagePack".into()),
        })
    }

    fn string(&mut self, n: usize) -> Result<Mp, String> {
        Ok(Mp::Str(String::from_utf8_lossy(self.take(n)?).into_owned()))
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Mp, String> {
        let mut items = Vec::with_capacity(n.min(self.bytes.len()));
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(Mp::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Mp, String> {
        let mut fields = Vec::with_capacity(n.min(self.bytes.len()));
        for _ in 0..n {
            let key = match self.value(depth + 1)? {
                Mp::Str(s) => s,
                Mp::Number(n) => number_text(n),
                other => return Err(format!("a map key that is not a string: {other:?}")),
            };
            fields.push((key, self.value(depth + 1)?));
        }
        Ok(Mp::Map(fields))
    }

    /// An extension of `n` data bytes (after its type byte).
    fn ext(&mut self, n: usize) -> Result<Mp, String> {
        let kind = self.take(1)?[0];
        let data = self.take(n)?;
        match kind {
            0 if n == 1 => Ok(Mp::Undefined),
            TYPED_ARRAY_EXT if n >= 1 => Ok(Mp::Typed(data[0] as i32, data[1..].to_vec())),
            _ => Err(format!("unsupported MessagePack extension type {kind}")),
        }
    }
}

/// How JS writes a number that is a property key (integers without a fraction).
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Writes MessagePack as msgpackr does for the same JS value.
#[derive(Default)]
pub struct Writer {
    pub out: Vec<u8>,
}

impl Writer {
    pub fn nil(&mut self) {
        self.out.push(0xc0);
    }

    pub fn undefined(&mut self) {
        self.out.extend_from_slice(&[0xd4, 0, 0]);
    }

    pub fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xc3 } else { 0xc2 });
    }

    /// An integer of 32 bits (signed or not) as an integer, anything else as a float64, as
    /// msgpackr does: so -0 goes as 0, like from the Node host.
    pub fn number(&mut self, n: f64) {
        if n.fract() == 0.0 && n >= i32::MIN as f64 && n <= u32::MAX as f64 {
            let i = n as i64;
            if i >= 0 {
                let u = i as u64;
                if u < 0x80 {
                    self.out.push(u as u8);
                } else if u < 0x100 {
                    self.out.extend_from_slice(&[0xcc, u as u8]);
                } else if u < 0x10000 {
                    self.out.push(0xcd);
                    self.out.extend_from_slice(&(u as u16).to_be_bytes());
                } else {
                    self.out.push(0xce);
                    self.out.extend_from_slice(&(u as u32).to_be_bytes());
                }
            } else if i >= -32 {
                self.out.push(i as i8 as u8);
            } else if i >= -128 {
                self.out.extend_from_slice(&[0xd0, i as i8 as u8]);
            } else if i >= -32768 {
                self.out.push(0xd1);
                self.out.extend_from_slice(&(i as i16).to_be_bytes());
            } else {
                self.out.push(0xd2);
                self.out.extend_from_slice(&(i as i32).to_be_bytes());
            }
        } else {
            self.out.push(0xcb);
            self.out.extend_from_slice(&n.to_bits().to_be_bytes());
        }
    }

    pub fn str(&mut self, s: &str) {
        let n = s.len();
        if n < 32 {
            self.out.push(0xa0 | n as u8);
        } else if n < 0x100 {
            self.out.extend_from_slice(&[0xd9, n as u8]);
        } else if n < 0x10000 {
            self.out.push(0xda);
            self.out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.out.push(0xdb);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        self.out.extend_from_slice(s.as_bytes());
    }

    pub fn array(&mut self, n: usize) {
        self.header(n, 0x90, 0xdc, 0xdd);
    }

    pub fn map(&mut self, n: usize) {
        self.header(n, 0x80, 0xde, 0xdf);
    }

    fn header(&mut self, n: usize, fix: u8, b16: u8, b32: u8) {
        if n < 16 {
            self.out.push(fix | n as u8);
        } else if n < 0x10000 {
            self.out.push(b16);
            self.out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.out.push(b32);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }

    /// A typed array (or, with msgpackr's index 0x10, an ArrayBuffer) and its bytes.
    pub fn typed(&mut self, kind: u8, bytes: &[u8]) {
        let n = bytes.len() + 1;
        if n < 0x100 {
            self.out.extend_from_slice(&[0xc7, n as u8]);
        } else if n < 0x10000 {
            self.out.push(0xc8);
            self.out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.out.push(0xc9);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        self.out.extend_from_slice(&[TYPED_ARRAY_EXT, kind]);
        self.out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_as_msgpackr_writes_them() {
        for n in [0.0, 1.0, 127.0, 128.0, 255.0, 256.0, 65536.0, 4294967295.0, -1.0, -33.0, -129.0, -40000.0, -2147483648.0, 1.5, -2.25, 1e300, 4294967296.0] {
            let mut w = Writer::default();
            w.number(n);
            assert_eq!(decode(&w.out).unwrap(), Mp::Number(n), "{n}");
        }
        let mut w = Writer::default();
        w.number(-0.0);
        assert_eq!(w.out, vec![0]);
    }

    #[test]
    fn maps_strings_and_extensions() {
        let mut w = Writer::default();
        w.map(3);
        w.str("s");
        w.str(&"é".repeat(40));
        w.str("u");
        w.undefined();
        w.str("t");
        w.typed(6, &[1, 0, 0, 0]);
        let v = decode(&w.out).unwrap();
        assert_eq!(v.str("s"), Some("é".repeat(40).as_str()));
        assert_eq!(v.get("u"), Some(&Mp::Undefined));
        assert_eq!(v.get("t"), Some(&Mp::Typed(6, vec![1, 0, 0, 0])));
        assert!(decode(&w.out[..w.out.len() - 1]).is_err());
    }
}
