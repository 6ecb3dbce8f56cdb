//! JS values to [`Value`]s and back, through Node-API. Every status is checked: a failed call
//! becomes a `plugin-error`, never a silently wrong value.

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::ptr;

use napi_sys::*;

use crate::snapshot::Raw;
use crate::{OpError, Value};

/// Arguments nested deeper than this are refused (and a cyclic object ends here, too).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Copy)]
pub(crate) struct Env(pub napi_env);

impl Env {
    pub fn check(self, status: napi_status, what: &str) -> Result<(), OpError> {
        if status == NAPI_OK {
            Ok(())
        } else {
            Err(OpError::plugin(format!("Node-API call failed ({what}, status {status})")))
        }
    }

    pub fn exception_pending(self) -> bool {
        let mut pending = false;
        // SAFETY: env is the live environment of the current callback.
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        pending
    }

    pub fn throw(self, code: &str, message: &str) {
        let code = to_cstring(code);
        let message = to_cstring(message);
        // SAFETY: both strings are NUL-terminated and outlive the call.
        unsafe { napi_throw_error(self.0, code.as_ptr(), message.as_ptr()) };
    }

    pub fn undefined(self) -> Result<napi_value, OpError> {
        let mut v = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        self.check(unsafe { napi_get_undefined(self.0, &mut v) }, "napi_get_undefined")?;
        Ok(v)
    }

    pub fn type_of(self, v: napi_value) -> Result<napi_valuetype, OpError> {
        let mut t = 0;
        // SAFETY: v is a handle of the current scope.
        self.check(unsafe { napi_typeof(self.0, v, &mut t) }, "napi_typeof")?;
        Ok(t)
    }

    pub fn named(self, object: napi_value, name: &CStr) -> Result<napi_value, OpError> {
        let mut v = ptr::null_mut();
        // SAFETY: name is NUL-terminated; object is a handle of the current scope.
        self.check(unsafe { napi_get_named_property(self.0, object, name.as_ptr(), &mut v) }, "napi_get_named_property")?;
        Ok(v)
    }

    pub fn set_named(self, object: napi_value, name: &CStr, value: napi_value) -> Result<(), OpError> {
        // SAFETY: as above.
        self.check(unsafe { napi_set_named_property(self.0, object, name.as_ptr(), value) }, "napi_set_named_property")
    }

    pub fn number(self, v: napi_value, what: &str) -> Result<f64, OpError> {
        let mut n = 0.0;
        // SAFETY: out-pointer to a local; a non-number is reported by the status.
        self.check(unsafe { napi_get_value_double(self.0, v, &mut n) }, what)?;
        Ok(n)
    }

    pub fn string(self, v: napi_value, what: &str) -> Result<String, OpError> {
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the length only.
        self.check(unsafe { napi_get_value_string_utf8(self.0, v, ptr::null_mut(), 0, &mut len) }, what)?;
        let mut buf = vec![0u8; len + 1];
        // SAFETY: buf has room for len bytes plus the NUL Node-API writes.
        self.check(unsafe { napi_get_value_string_utf8(self.0, v, buf.as_mut_ptr() as *mut c_char, buf.len(), &mut len) }, what)?;
        buf.truncate(len);
        String::from_utf8(buf).map_err(|_| OpError::plugin(format!("{what}: not valid UTF-8")))
    }

    pub fn strings(self, v: napi_value, what: &str) -> Result<Vec<String>, OpError> {
        let len = self.array_length(v, what)?;
        (0..len).map(|i| self.element(v, i).and_then(|e| self.string(e, what))).collect()
    }

    fn array_length(self, v: napi_value, what: &str) -> Result<u32, OpError> {
        let mut len = 0u32;
        // SAFETY: out-pointer to a local.
        self.check(unsafe { napi_get_array_length(self.0, v, &mut len) }, what)?;
        Ok(len)
    }

    fn element(self, v: napi_value, i: u32) -> Result<napi_value, OpError> {
        let mut e = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        self.check(unsafe { napi_get_element(self.0, v, i, &mut e) }, "napi_get_element")?;
        Ok(e)
    }

    /// A typed array's elements in place, checked to be of the expected element type.
    pub fn typed_array<T>(self, v: napi_value, kind: napi_typedarray_type, what: &str) -> Result<Raw<T>, OpError> {
        let mut is_typed = false;
        // SAFETY: out-pointer to a local.
        self.check(unsafe { napi_is_typedarray(self.0, v, &mut is_typed) }, what)?;
        if !is_typed {
            return Err(OpError::plugin(format!("snapshot field {what} is not a typed array")));
        }
        let (mut got, mut len, mut data, mut buffer, mut offset) = (0, 0usize, ptr::null_mut::<c_void>(), ptr::null_mut(), 0usize);
        // SAFETY: v is a typed array (checked above); all out-pointers are locals.
        self.check(unsafe { napi_get_typedarray_info(self.0, v, &mut got, &mut len, &mut data, &mut buffer, &mut offset) }, what)?;
        if got != kind {
            return Err(OpError::plugin(format!("snapshot field {what} has the wrong element type")));
        }
        Ok(Raw { ptr: data as *const T, len })
    }

    /// A JS value as a [`Value`]: `undefined` and `null` are `Null`; functions, symbols and
    /// bigints are refused.
    pub fn read(self, v: napi_value, depth: usize) -> Result<Value, OpError> {
        if depth > MAX_DEPTH {
            return Err(OpError::bad_args(format!("arguments are nested deeper than {MAX_DEPTH} levels")));
        }
        match self.type_of(v)? {
            NAPI_UNDEFINED | NAPI_NULL => Ok(Value::Null),
            NAPI_BOOLEAN => {
                let mut b = false;
                // SAFETY: v is a boolean.
                self.check(unsafe { napi_get_value_bool(self.0, v, &mut b) }, "napi_get_value_bool")?;
                Ok(Value::Bool(b))
            }
            NAPI_NUMBER => Ok(Value::Number(self.number(v, "napi_get_value_double")?)),
            NAPI_STRING => Ok(Value::String(self.string(v, "napi_get_value_string_utf8")?)),
            NAPI_OBJECT => {
                let mut is_array = false;
                // SAFETY: out-pointer to a local.
                self.check(unsafe { napi_is_array(self.0, v, &mut is_array) }, "napi_is_array")?;
                if is_array {
                    let len = self.array_length(v, "napi_get_array_length")?;
                    return (0..len).map(|i| self.element(v, i).and_then(|e| self.read(e, depth + 1))).collect::<Result<_, _>>().map(Value::List);
                }
                let mut names = ptr::null_mut();
                // SAFETY: v is an object.
                self.check(unsafe { napi_get_property_names(self.0, v, &mut names) }, "napi_get_property_names")?;
                let len = self.array_length(names, "napi_get_array_length")?;
                let mut fields = Vec::with_capacity(len as usize);
                for i in 0..len {
                    let key = self.element(names, i)?;
                    let mut field = ptr::null_mut();
                    // SAFETY: key is a property name of v.
                    self.check(unsafe { napi_get_property(self.0, v, key, &mut field) }, "napi_get_property")?;
                    fields.push((self.string(key, "property name")?, self.read(field, depth + 1)?));
                }
                Ok(Value::Object(fields))
            }
            other => Err(OpError::bad_args(format!("arguments may hold only objects, arrays, strings, numbers, booleans and null (got a value of Node-API type {other})"))),
        }
    }

    pub fn write(self, v: &Value) -> Result<napi_value, OpError> {
        Writer { env: self, keys: Vec::new() }.write(v)
    }

    pub fn new_string(self, s: &str) -> Result<napi_value, OpError> {
        let mut out = ptr::null_mut();
        // SAFETY: s is valid UTF-8 of the given length.
        self.check(unsafe { napi_create_string_utf8(self.0, s.as_ptr() as *const c_char, s.len(), &mut out) }, "napi_create_string_utf8")?;
        Ok(out)
    }

    pub(crate) fn new_typed_array<T: Copy>(self, items: &[T], kind: napi_typedarray_type) -> Result<napi_value, OpError> {
        let bytes = std::mem::size_of_val(items);
        let (mut data, mut buffer, mut out) = (ptr::null_mut::<c_void>(), ptr::null_mut(), ptr::null_mut());
        // SAFETY: the new buffer has `bytes` bytes, exactly what is copied into it.
        unsafe {
            self.check(napi_create_arraybuffer(self.0, bytes, &mut data, &mut buffer), "napi_create_arraybuffer")?;
            if bytes > 0 {
                ptr::copy_nonoverlapping(items.as_ptr() as *const u8, data as *mut u8, bytes);
            }
            self.check(napi_create_typedarray(self.0, kind, items.len(), buffer, 0, &mut out), "napi_create_typedarray")?;
        }
        Ok(out)
    }
}

/// A NUL-terminated copy of `s` (interior NULs, which C cannot carry, become spaces).
fn to_cstring(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Writes one result. Property names repeat across the objects of a result (`size`,
/// `members`, `score`), so each is created as a JS string once per result, not once per object.
struct Writer<'v> {
    env: Env,
    keys: Vec<(&'v str, napi_value)>,
}

impl<'v> Writer<'v> {
    fn key(&mut self, k: &'v str) -> Result<napi_value, OpError> {
        if let Some(&(_, v)) = self.keys.iter().find(|(name, _)| *name == k) {
            return Ok(v);
        }
        let v = self.env.new_string(k)?;
        self.keys.push((k, v));
        Ok(v)
    }

    fn write(&mut self, v: &'v Value) -> Result<napi_value, OpError> {
        let env = self.env;
        let mut out = ptr::null_mut();
        // SAFETY (all arms): out-pointers to a local; inputs are handles of the current scope.
        match v {
            Value::Null => env.check(unsafe { napi_get_null(env.0, &mut out) }, "napi_get_null")?,
            Value::Bool(b) => env.check(unsafe { napi_get_boolean(env.0, *b, &mut out) }, "napi_get_boolean")?,
            Value::Number(n) => env.check(unsafe { napi_create_double(env.0, *n, &mut out) }, "napi_create_double")?,
            Value::String(s) => out = env.new_string(s)?,
            Value::List(items) => {
                env.check(unsafe { napi_create_array_with_length(env.0, items.len(), &mut out) }, "napi_create_array_with_length")?;
                for (i, item) in items.iter().enumerate() {
                    let e = self.write(item)?;
                    env.check(unsafe { napi_set_element(env.0, out, i as u32, e) }, "napi_set_element")?;
                }
            }
            Value::Object(fields) => {
                env.check(unsafe { napi_create_object(env.0, &mut out) }, "napi_create_object")?;
                for (k, field) in fields {
                    let key = self.key(k)?;
                    let value = self.write(field)?;
                    env.check(unsafe { napi_set_property(env.0, out, key, value) }, "napi_set_property")?;
                }
            }
            Value::Ids(ids) => out = env.new_typed_array(ids, NAPI_UINT32_ARRAY)?,
            Value::Floats(xs) => out = env.new_typed_array(xs, NAPI_FLOAT64_ARRAY)?,
        }
        Ok(out)
    }
}
