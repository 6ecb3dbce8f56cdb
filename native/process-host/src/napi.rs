//! The Node-API functions isg's addons call (the list in native/napi-sys/src/lib.rs), defined
//! here over a small value model, and exported from the executable (build.rs) so that the
//! addon's undefined `napi_*` symbols resolve to them when it is dlopen()ed.
//!
//! Values live in one arena; a `napi_value` is an arena index plus one (so never null). The
//! arena only grows while a request runs; between requests the host cuts it back to what must
//! outlast them ([`truncate`]): the exports and the attached snapshot's form. References
//! (`napi_create_reference`) therefore need no collector: the addon holds them only on the
//! snapshot's form, which stays until the next snapshot replaces it.
//!
//! Single-threaded, like a JS environment: every function borrows the arena only for its own
//! work, never across a call into the addon, since the addon calls back in.
#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use crate::msgpack::{number_text, Mp, Writer};

pub type napi_env = *mut c_void;
pub type napi_value = *mut c_void;
pub type napi_callback_info = *mut c_void;
pub type napi_ref = *mut c_void;
pub type napi_status = i32;
pub type napi_callback = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;
pub type napi_finalize = unsafe extern "C" fn(napi_env, *mut c_void, *mut c_void);

const OK: napi_status = 0;
const INVALID_ARG: napi_status = 1;
const OBJECT_EXPECTED: napi_status = 2;
const STRING_EXPECTED: napi_status = 3;
const NUMBER_EXPECTED: napi_status = 6;
const BOOLEAN_EXPECTED: napi_status = 7;
const ARRAY_EXPECTED: napi_status = 8;
const GENERIC_FAILURE: napi_status = 9;

// napi_valuetype
const UNDEFINED: i32 = 0;
const NULL: i32 = 1;
const BOOLEAN: i32 = 2;
const NUMBER: i32 = 3;
const STRING: i32 = 4;
const OBJECT: i32 = 6;
const FUNCTION: i32 = 7;

pub const UINT8_ARRAY: i32 = 1;
pub const UINT32_ARRAY: i32 = 6;
/// msgpackr's typed-array index for an ArrayBuffer.
const ARRAY_BUFFER_TAG: u8 = 0x10;
/// `NAPI_AUTO_LENGTH`: the string is NUL-terminated.
const AUTO_LENGTH: usize = usize::MAX;

/// Element widths by `napi_typedarray_type` (int8 .. biguint64).
const WIDTHS: [usize; 11] = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8];

pub type Handle = usize;

pub enum Val {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Array(Vec<Handle>),
    Object(Vec<(String, Handle)>),
    /// An ArrayBuffer's bytes: its own (`_owned`, 8-aligned), or memory the host owns and keeps
    /// alive for as long as the value can be reached (the snapshot's).
    Buffer { data: *mut u8, len: usize, _owned: Option<Vec<u64>> },
    Typed { kind: i32, buffer: Handle, offset: usize, len: usize },
    Function { cb: napi_callback, data: *mut c_void },
}

/// What the addon threw (`napi_throw_error`): an Error with a message and maybe a code.
#[derive(Debug, Clone)]
pub struct Thrown {
    pub code: Option<String>,
    pub message: String,
}

struct Heap {
    vals: Vec<Val>,
    refs: Vec<Option<Handle>>,
    pending: Option<Thrown>,
    instance_data: *mut c_void,
}

/// The arguments of the callback being run (`napi_callback_info` points at one).
struct CallInfo {
    this: Handle,
    args: Vec<Handle>,
    data: *mut c_void,
}

const UNDEFINED_H: Handle = 0;
const NULL_H: Handle = 1;
const TRUE_H: Handle = 2;
const FALSE_H: Handle = 3;

thread_local! {
    static HEAP: RefCell<Heap> = RefCell::new(Heap {
        vals: vec![Val::Undefined, Val::Null, Val::Bool(true), Val::Bool(false)],
        refs: Vec::new(),
        pending: None,
        instance_data: ptr::null_mut(),
    });
}

/// The one environment: its address is all an addon sees of it.
static ENV: u8 = 0;

pub fn env() -> napi_env {
    &ENV as *const u8 as napi_env
}

fn with<T>(f: impl FnOnce(&mut Heap) -> T) -> T {
    HEAP.with(|h| f(&mut h.borrow_mut()))
}

fn to_value(h: Handle) -> napi_value {
    (h + 1) as napi_value
}

impl Heap {
    fn handle(&self, v: napi_value) -> Result<Handle, napi_status> {
        let i = (v as usize).wrapping_sub(1);
        if v.is_null() || i >= self.vals.len() {
            return Err(INVALID_ARG);
        }
        Ok(i)
    }

    fn val(&self, v: napi_value) -> Result<&Val, napi_status> {
        Ok(&self.vals[self.handle(v)?])
    }

    fn add(&mut self, v: Val) -> Handle {
        self.vals.push(v);
        self.vals.len() - 1
    }

    fn string_key(&self, key: Handle) -> Result<String, napi_status> {
        match &self.vals[key] {
            Val::Str(s) => Ok(s.clone()),
            Val::Number(n) => Ok(number_text(*n)),
            _ => Err(4), // napi_name_expected
        }
    }

    fn get(&self, object: Handle, key: &str) -> Result<Handle, napi_status> {
        match &self.vals[object] {
            Val::Object(fields) => Ok(fields.iter().find(|(k, _)| k == key).map_or(UNDEFINED_H, |(_, v)| *v)),
            Val::Array(items) => Ok(match key {
                "length" => return Err(GENERIC_FAILURE),
                _ => key.parse::<usize>().ok().and_then(|i| items.get(i).copied()).unwrap_or(UNDEFINED_H),
            }),
            Val::Undefined | Val::Null | Val::Bool(_) | Val::Number(_) | Val::Str(_) => Err(OBJECT_EXPECTED),
            _ => Ok(UNDEFINED_H),
        }
    }

    fn set(&mut self, object: Handle, key: String, value: Handle) -> Result<(), napi_status> {
        if let Val::Array(_) = self.vals[object] {
            if let Ok(i) = key.parse::<u32>() {
                return self.set_element(object, i, value);
            }
        }
        match &mut self.vals[object] {
            Val::Object(fields) => {
                match fields.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => fields.push((key, value)),
                }
                Ok(())
            }
            _ => Err(OBJECT_EXPECTED),
        }
    }

    fn set_element(&mut self, array: Handle, index: u32, value: Handle) -> Result<(), napi_status> {
        match &mut self.vals[array] {
            Val::Array(items) => {
                let i = index as usize;
                if i >= items.len() {
                    items.resize(i + 1, UNDEFINED_H);
                }
                items[i] = value;
                Ok(())
            }
            _ => Err(ARRAY_EXPECTED),
        }
    }

    fn new_buffer(&mut self, len: usize) -> (Handle, *mut u8) {
        let mut owned = vec![0u64; len.div_ceil(8)];
        let data = owned.as_mut_ptr() as *mut u8;
        (self.add(Val::Buffer { data, len, _owned: Some(owned) }), data)
    }

    fn new_typed(&mut self, kind: i32, buffer: Handle, offset: usize, len: usize) -> Result<Handle, napi_status> {
        let width = *WIDTHS.get(kind as usize).ok_or(INVALID_ARG)?;
        let Val::Buffer { len: bytes, .. } = self.vals[buffer] else { return Err(INVALID_ARG) };
        let end = len.checked_mul(width).and_then(|n| n.checked_add(offset));
        if offset % width != 0 || end.is_none_or(|e| e > bytes) {
            return Err(INVALID_ARG);
        }
        Ok(self.add(Val::Typed { kind, buffer, offset, len }))
    }

    /// A typed array's bytes.
    fn typed_bytes(&self, buffer: Handle, offset: usize, bytes: usize) -> &[u8] {
        match &self.vals[buffer] {
            Val::Buffer { data, .. } if bytes > 0 => {
                // SAFETY: new_typed checked offset + bytes against the buffer's length, and the
                // buffer's memory lives as long as the value (see Val::Buffer).
                unsafe { std::slice::from_raw_parts(data.add(offset), bytes) }
            }
            _ => &[],
        }
    }
}

/// Runs one Node-API function: a bad argument is a status, never a panic across the C boundary.
fn api(f: impl FnOnce(&mut Heap) -> Result<(), napi_status>) -> napi_status {
    match panic::catch_unwind(AssertUnwindSafe(|| with(f))) {
        Ok(Ok(())) => OK,
        Ok(Err(status)) => status,
        Err(_) => GENERIC_FAILURE,
    }
}

/// Writes `v` through an out-pointer the addon passed.
unsafe fn out<T>(p: *mut T, v: T) -> Result<(), napi_status> {
    if p.is_null() {
        return Err(INVALID_ARG);
    }
    p.write(v);
    Ok(())
}

unsafe fn c_str(s: *const c_char) -> Result<String, napi_status> {
    if s.is_null() {
        return Err(INVALID_ARG);
    }
    Ok(CStr::from_ptr(s).to_string_lossy().into_owned())
}

// ---- the host's side -------------------------------------------------------------------------

/// How many values there are now: what [`truncate`] goes back to.
pub fn mark() -> usize {
    with(|h| h.vals.len())
}

/// Drops every value made since `mark` (the requests' temporaries).
pub fn truncate(mark: usize) {
    with(|h| h.vals.truncate(mark.max(FALSE_H + 1)))
}

pub fn value(h: Handle) -> napi_value {
    to_value(h)
}

pub fn handle(v: napi_value) -> Option<Handle> {
    with(|h| h.handle(v).ok())
}

pub fn new_object() -> Handle {
    with(|h| h.add(Val::Object(Vec::new())))
}

pub fn set(object: Handle, key: &str, value: Handle) {
    let _ = with(|h| h.set(object, key.to_string(), value));
}

pub fn get(object: Handle, key: &str) -> Handle {
    with(|h| h.get(object, key).unwrap_or(UNDEFINED_H))
}

pub fn as_number(v: Handle) -> Option<f64> {
    with(|h| if let Val::Number(n) = h.vals[v] { Some(n) } else { None })
}

pub fn is_function(v: Handle) -> bool {
    with(|h| matches!(h.vals[v], Val::Function { .. }))
}

/// The names of an object's fields that hold functions.
pub fn function_names(object: Handle) -> Vec<String> {
    with(|h| match &h.vals[object] {
        Val::Object(fields) => fields.iter().filter(|(_, v)| matches!(h.vals[*v], Val::Function { .. })).map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    })
}

/// A typed array of `kind` over `len` bytes at `data`, memory the caller keeps alive while the
/// value can be reached.
pub fn borrowed_typed(data: *mut u8, bytes: usize, kind: i32, offset: usize, len: usize) -> Result<Handle, String> {
    with(|h| {
        let buffer = h.add(Val::Buffer { data, len: bytes, _owned: None });
        h.new_typed(kind, buffer, offset, len)
    })
    .map_err(|_| format!("a typed array of type {kind} with {len} elements at byte {offset} does not fit in the snapshot's {bytes} bytes"))
}

/// Calls the function `f` with `args`; what it threw, if it threw.
pub fn call(f: Handle, this: Handle, args: &[Handle]) -> Result<Handle, Thrown> {
    let Some((cb, data)) = with(|h| if let Val::Function { cb, data } = h.vals[f] { Some((cb, data)) } else { None }) else {
        return Err(Thrown { code: None, message: "not a function".into() });
    };
    let mut info = CallInfo { this, args: args.to_vec(), data };
    // SAFETY: cb is a callback the addon registered with napi_create_function; info outlives it.
    let result = unsafe { cb(env(), &mut info as *mut CallInfo as napi_callback_info) };
    if let Some(thrown) = with(|h| h.pending.take()) {
        return Err(thrown);
    }
    Ok(handle(result).unwrap_or(UNDEFINED_H))
}

/// A value decoded from the pipe, as the Node host's msgpackr would hand it to the addon.
pub fn from_mp(v: &Mp) -> Handle {
    let made = match v {
        Mp::Undefined => return UNDEFINED_H,
        Mp::Nil => return NULL_H,
        Mp::Bool(b) => return if *b { TRUE_H } else { FALSE_H },
        Mp::Number(n) => Val::Number(*n),
        Mp::Str(s) => Val::Str(s.clone()),
        Mp::Array(items) => Val::Array(items.iter().map(from_mp).collect()),
        Mp::Map(fields) => Val::Object(fields.iter().map(|(k, f)| (k.clone(), from_mp(f))).collect()),
        Mp::Bin(bytes) => return bytes_typed(UINT8_ARRAY, bytes),
        Mp::Typed(kind, bytes) => return bytes_typed(*kind, bytes),
    };
    with(|h| h.add(made))
}

fn bytes_typed(kind: i32, bytes: &[u8]) -> Handle {
    with(|h| {
        let (buffer, data) = h.new_buffer(bytes.len());
        // SAFETY: the new buffer has room for bytes.len() bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        let width = WIDTHS.get(kind as usize).copied().unwrap_or(1);
        h.new_typed(kind, buffer, 0, bytes.len() / width).unwrap_or(UNDEFINED_H)
    })
}

/// Results nested deeper than this are refused (an addon can build a cyclic object).
const MAX_WRITE_DEPTH: usize = 1000;

/// Writes `v` as msgpackr would write the same JS value.
pub fn write(w: &mut Writer, v: Handle) -> Result<(), String> {
    with(|h| write_val(h, w, v, 0))
}

fn write_val(h: &Heap, w: &mut Writer, v: Handle, depth: usize) -> Result<(), String> {
    if depth > MAX_WRITE_DEPTH {
        return Err(format!("the result is nested deeper than {MAX_WRITE_DEPTH} levels (is it cyclic?)"));
    }
    match &h.vals[v] {
        Val::Undefined => w.undefined(),
        Val::Null | Val::Function { .. } => w.nil(),
        Val::Bool(b) => w.bool(*b),
        Val::Number(n) => w.number(*n),
        Val::Str(s) => w.str(s),
        Val::Array(items) => {
            w.array(items.len());
            for &i in items {
                write_val(h, w, i, depth + 1)?;
            }
        }
        Val::Object(fields) => {
            w.map(fields.len());
            for (k, f) in fields {
                w.str(k);
                write_val(h, w, *f, depth + 1)?;
            }
        }
        Val::Buffer { len, .. } => w.typed(ARRAY_BUFFER_TAG, h.typed_bytes(v, 0, *len)),
        Val::Typed { kind, buffer, offset, len } => w.typed(*kind as u8, h.typed_bytes(*buffer, *offset, len * WIDTHS[*kind as usize])),
    }
    Ok(())
}

// ---- the Node-API functions ------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn napi_get_cb_info(
    _env: napi_env,
    info: napi_callback_info,
    argc: *mut usize,
    argv: *mut napi_value,
    this_arg: *mut napi_value,
    data: *mut *mut c_void,
) -> napi_status {
    api(|_| {
        let info = (info as *const CallInfo).as_ref().ok_or(INVALID_ARG)?;
        if !argc.is_null() {
            // As Node: up to *argc arguments into argv, undefined for those not passed.
            if !argv.is_null() {
                for i in 0..*argc {
                    argv.add(i).write(to_value(info.args.get(i).copied().unwrap_or(UNDEFINED_H)));
                }
            }
            *argc = info.args.len();
        }
        if !this_arg.is_null() {
            *this_arg = to_value(info.this);
        }
        if !data.is_null() {
            *data = info.data;
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_function(_env: napi_env, _name: *const c_char, _length: usize, cb: Option<napi_callback>, data: *mut c_void, result: *mut napi_value) -> napi_status {
    api(|h| {
        let cb = cb.ok_or(INVALID_ARG)?;
        out(result, to_value(h.add(Val::Function { cb, data })))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_typeof(_env: napi_env, value: napi_value, result: *mut i32) -> napi_status {
    api(|h| {
        let t = match h.val(value)? {
            Val::Undefined => UNDEFINED,
            Val::Null => NULL,
            Val::Bool(_) => BOOLEAN,
            Val::Number(_) => NUMBER,
            Val::Str(_) => STRING,
            Val::Function { .. } => FUNCTION,
            Val::Array(_) | Val::Object(_) | Val::Buffer { .. } | Val::Typed { .. } => OBJECT,
        };
        out(result, t)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_array(_env: napi_env, value: napi_value, result: *mut bool) -> napi_status {
    api(|h| out(result, matches!(h.val(value)?, Val::Array(_))))
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_typedarray(_env: napi_env, value: napi_value, result: *mut bool) -> napi_status {
    api(|h| out(result, matches!(h.val(value)?, Val::Typed { .. })))
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_bool(_env: napi_env, value: napi_value, result: *mut bool) -> napi_status {
    api(|h| match h.val(value)? {
        Val::Bool(b) => out(result, *b),
        _ => Err(BOOLEAN_EXPECTED),
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_double(_env: napi_env, value: napi_value, result: *mut f64) -> napi_status {
    api(|h| match h.val(value)? {
        Val::Number(n) => out(result, *n),
        _ => Err(NUMBER_EXPECTED),
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_string_utf8(_env: napi_env, value: napi_value, buf: *mut c_char, bufsize: usize, result: *mut usize) -> napi_status {
    api(|h| {
        let Val::Str(s) = h.val(value)? else { return Err(STRING_EXPECTED) };
        if buf.is_null() {
            return out(result, s.len());
        }
        if bufsize == 0 {
            return if result.is_null() { Ok(()) } else { out(result, 0) };
        }
        // As Node: as many whole characters as fit before the NUL.
        let mut n = s.len().min(bufsize - 1);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, n);
        *buf.add(n) = 0;
        if !result.is_null() {
            *result = n;
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_undefined(_env: napi_env, result: *mut napi_value) -> napi_status {
    api(|_| out(result, to_value(UNDEFINED_H)))
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_null(_env: napi_env, result: *mut napi_value) -> napi_status {
    api(|_| out(result, to_value(NULL_H)))
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_boolean(_env: napi_env, value: bool, result: *mut napi_value) -> napi_status {
    api(|_| out(result, to_value(if value { TRUE_H } else { FALSE_H })))
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_double(_env: napi_env, value: f64, result: *mut napi_value) -> napi_status {
    api(|h| out(result, to_value(h.add(Val::Number(value)))))
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_string_utf8(_env: napi_env, s: *const c_char, length: usize, result: *mut napi_value) -> napi_status {
    api(|h| {
        let text = if length == AUTO_LENGTH {
            c_str(s)?
        } else if length == 0 {
            String::new()
        } else if s.is_null() {
            return Err(INVALID_ARG);
        } else {
            String::from_utf8_lossy(std::slice::from_raw_parts(s as *const u8, length)).into_owned()
        };
        out(result, to_value(h.add(Val::Str(text))))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_object(_env: napi_env, result: *mut napi_value) -> napi_status {
    api(|h| out(result, to_value(h.add(Val::Object(Vec::new())))))
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_array_with_length(_env: napi_env, length: usize, result: *mut napi_value) -> napi_status {
    api(|h| out(result, to_value(h.add(Val::Array(vec![UNDEFINED_H; length])))))
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_arraybuffer(_env: napi_env, byte_length: usize, data: *mut *mut c_void, result: *mut napi_value) -> napi_status {
    api(|h| {
        let (buffer, bytes) = h.new_buffer(byte_length);
        if !data.is_null() {
            *data = bytes as *mut c_void;
        }
        out(result, to_value(buffer))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_typedarray(_env: napi_env, kind: i32, length: usize, arraybuffer: napi_value, byte_offset: usize, result: *mut napi_value) -> napi_status {
    api(|h| {
        let buffer = h.handle(arraybuffer)?;
        let typed = h.new_typed(kind, buffer, byte_offset, length)?;
        out(result, to_value(typed))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_named_property(_env: napi_env, object: napi_value, name: *const c_char, result: *mut napi_value) -> napi_status {
    api(|h| {
        let v = h.get(h.handle(object)?, &c_str(name)?)?;
        out(result, to_value(v))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_set_named_property(_env: napi_env, object: napi_value, name: *const c_char, value: napi_value) -> napi_status {
    api(|h| {
        let (o, v) = (h.handle(object)?, h.handle(value)?);
        h.set(o, c_str(name)?, v)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_set_property(_env: napi_env, object: napi_value, key: napi_value, value: napi_value) -> napi_status {
    api(|h| {
        let (o, k, v) = (h.handle(object)?, h.handle(key)?, h.handle(value)?);
        let key = h.string_key(k)?;
        h.set(o, key, v)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_property(_env: napi_env, object: napi_value, key: napi_value, result: *mut napi_value) -> napi_status {
    api(|h| {
        let (o, k) = (h.handle(object)?, h.handle(key)?);
        let v = h.get(o, &h.string_key(k)?)?;
        out(result, to_value(v))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_property_names(_env: napi_env, object: napi_value, result: *mut napi_value) -> napi_status {
    api(|h| {
        let names: Vec<String> = match h.val(object)? {
            Val::Object(fields) => fields.iter().map(|(k, _)| k.clone()).collect(),
            Val::Array(items) => (0..items.len()).map(|i| i.to_string()).collect(),
            Val::Typed { len, .. } => (0..*len).map(|i| i.to_string()).collect(),
            Val::Buffer { .. } | Val::Function { .. } => Vec::new(),
            _ => return Err(OBJECT_EXPECTED),
        };
        let items = names.into_iter().map(|n| h.add(Val::Str(n))).collect();
        out(result, to_value(h.add(Val::Array(items))))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_array_length(_env: napi_env, value: napi_value, result: *mut u32) -> napi_status {
    api(|h| match h.val(value)? {
        Val::Array(items) => out(result, items.len() as u32),
        _ => Err(ARRAY_EXPECTED),
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_element(_env: napi_env, object: napi_value, index: u32, result: *mut napi_value) -> napi_status {
    api(|h| {
        let v = h.get(h.handle(object)?, &index.to_string())?;
        out(result, to_value(v))
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_set_element(_env: napi_env, object: napi_value, index: u32, value: napi_value) -> napi_status {
    api(|h| {
        let (o, v) = (h.handle(object)?, h.handle(value)?);
        match h.vals[o] {
            Val::Object(_) => h.set(o, index.to_string(), v),
            _ => h.set_element(o, index, v),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_typedarray_info(
    _env: napi_env,
    typedarray: napi_value,
    kind: *mut i32,
    length: *mut usize,
    data: *mut *mut c_void,
    arraybuffer: *mut napi_value,
    byte_offset: *mut usize,
) -> napi_status {
    api(|h| {
        let Val::Typed { kind: k, buffer, offset, len } = *h.val(typedarray)? else { return Err(INVALID_ARG) };
        let Val::Buffer { data: bytes, .. } = h.vals[buffer] else { return Err(GENERIC_FAILURE) };
        if !kind.is_null() {
            *kind = k;
        }
        if !length.is_null() {
            *length = len;
        }
        if !data.is_null() {
            // As Node: the first element, not the buffer's start.
            *data = bytes.add(offset) as *mut c_void;
        }
        if !arraybuffer.is_null() {
            *arraybuffer = to_value(buffer);
        }
        if !byte_offset.is_null() {
            *byte_offset = offset;
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_reference(_env: napi_env, value: napi_value, _initial_refcount: u32, result: *mut napi_ref) -> napi_status {
    api(|h| {
        let v = h.handle(value)?;
        h.refs.push(Some(v));
        out(result, h.refs.len() as napi_ref)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_delete_reference(_env: napi_env, reference: napi_ref) -> napi_status {
    api(|h| {
        let slot = (reference as usize).checked_sub(1).and_then(|i| h.refs.get_mut(i)).ok_or(INVALID_ARG)?;
        slot.take().ok_or(INVALID_ARG)?;
        // Trailing deleted references are forgotten, so re-attaching does not grow the table.
        while h.refs.last().is_some_and(|r| r.is_none()) {
            h.refs.pop();
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_set_instance_data(_env: napi_env, data: *mut c_void, _finalize: Option<napi_finalize>, _hint: *mut c_void) -> napi_status {
    // Never finalized: the environment lasts as long as the process.
    api(|h| {
        h.instance_data = data;
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_instance_data(_env: napi_env, data: *mut *mut c_void) -> napi_status {
    api(|h| out(data, h.instance_data))
}

#[no_mangle]
pub unsafe extern "C" fn napi_throw_error(_env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status {
    api(|h| {
        let code = if code.is_null() { None } else { Some(c_str(code)?) };
        h.pending = Some(Thrown { code, message: c_str(msg)? });
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_exception_pending(_env: napi_env, result: *mut bool) -> napi_status {
    api(|h| out(result, h.pending.is_some()))
}

/// `undefined` or `null`.
pub fn as_nullish(v: Handle) -> bool {
    with(|h| matches!(h.vals[v], Val::Undefined | Val::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_insertion_order_and_a_set_replaces() {
        unsafe {
            let mut o = ptr::null_mut();
            assert_eq!(napi_create_object(env(), &mut o), OK);
            let (mut one, mut two) = (ptr::null_mut(), ptr::null_mut());
            napi_create_double(env(), 1.0, &mut one);
            napi_create_double(env(), 2.0, &mut two);
            napi_set_named_property(env(), o, c"b".as_ptr(), one);
            napi_set_named_property(env(), o, c"a".as_ptr(), one);
            napi_set_named_property(env(), o, c"b".as_ptr(), two);
            let mut names = ptr::null_mut();
            napi_get_property_names(env(), o, &mut names);
            let mut len = 0;
            napi_get_array_length(env(), names, &mut len);
            assert_eq!(len, 2);
            let mut first = ptr::null_mut();
            napi_get_element(env(), names, 0, &mut first);
            let mut buf = [0 as c_char; 4];
            napi_get_value_string_utf8(env(), first, buf.as_mut_ptr(), buf.len(), ptr::null_mut());
            assert_eq!(buf[0] as u8, b'b', "b was set first");
            let mut got = ptr::null_mut();
            napi_get_named_property(env(), o, c"b".as_ptr(), &mut got);
            let mut n = 0.0;
            assert_eq!(napi_get_value_double(env(), got, &mut n), OK);
            assert_eq!(n, 2.0);
            napi_get_named_property(env(), o, c"missing".as_ptr(), &mut got);
            let mut t = -1;
            napi_typeof(env(), got, &mut t);
            assert_eq!(t, UNDEFINED);
            assert_eq!(napi_get_value_double(env(), names, &mut n), NUMBER_EXPECTED);
        }
    }

    #[test]
    fn strings_are_cut_at_a_character_boundary_like_node() {
        unsafe {
            let mut s = ptr::null_mut();
            let text = "aé";
            napi_create_string_utf8(env(), text.as_ptr() as *const c_char, text.len(), &mut s);
            let mut len = 0;
            napi_get_value_string_utf8(env(), s, ptr::null_mut(), 0, &mut len);
            assert_eq!(len, 3);
            let mut buf = [0x7f as c_char; 3];
            napi_get_value_string_utf8(env(), s, buf.as_mut_ptr(), buf.len(), &mut len);
            assert_eq!((len, buf[0] as u8, buf[1]), (1, b'a', 0));
        }
    }

    #[test]
    fn typed_arrays_point_at_their_first_element_and_are_bounds_checked() {
        unsafe {
            let (mut data, mut buffer, mut typed) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
            napi_create_arraybuffer(env(), 16, &mut data, &mut buffer);
            assert_eq!(napi_create_typedarray(env(), UINT32_ARRAY, 3, buffer, 4, &mut typed), OK);
            assert_eq!(napi_create_typedarray(env(), UINT32_ARRAY, 4, buffer, 4, &mut typed), INVALID_ARG, "past the end");
            assert_eq!(napi_create_typedarray(env(), UINT32_ARRAY, 1, buffer, 2, &mut typed), INVALID_ARG, "misaligned");
            napi_create_typedarray(env(), UINT32_ARRAY, 3, buffer, 4, &mut typed);
            let (mut kind, mut len, mut first, mut offset) = (0, 0usize, ptr::null_mut(), 0usize);
            napi_get_typedarray_info(env(), typed, &mut kind, &mut len, &mut first, ptr::null_mut(), &mut offset);
            assert_eq!((kind, len, offset), (UINT32_ARRAY, 3, 4));
            assert_eq!(first as usize, data as usize + 4);
            let mut w = Writer::default();
            *(first as *mut u32) = 7;
            write(&mut w, handle(typed).unwrap()).unwrap();
            assert_eq!(crate::msgpack::decode(&w.out).unwrap(), Mp::Typed(UINT32_ARRAY, vec![7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        }
    }

    #[test]
    fn a_thrown_error_is_pending_until_the_host_takes_it() {
        unsafe extern "C" fn throws(env: napi_env, _info: napi_callback_info) -> napi_value {
            napi_throw_error(env, c"bad-args".as_ptr(), c"wrong".as_ptr());
            ptr::null_mut()
        }
        unsafe {
            let mut f = ptr::null_mut();
            napi_create_function(env(), ptr::null(), 0, Some(throws), ptr::null_mut(), &mut f);
            let thrown = call(handle(f).unwrap(), UNDEFINED_H, &[]).unwrap_err();
            assert_eq!((thrown.code.as_deref(), thrown.message.as_str()), (Some("bad-args"), "wrong"));
            let mut pending = true;
            napi_is_exception_pending(env(), &mut pending);
            assert!(!pending);
        }
    }
}
