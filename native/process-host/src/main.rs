//! The host of a native plugin in `process` isolation, without Node: it defines the Node-API
//! functions isg's addons use (napi.rs), dlopen()s one addon, and answers the daemon over fd 3
//! exactly as daemon/plugins/native-child.ts does (the messages of native-process.ts, in
//! length-prefixed MessagePack frames as pipe-frames.ts writes them). A Node process costs
//! ~50 MB; this one costs what the addon and the snapshot's copy do, plus a few hundred KB.
//!
//! The daemon ends it by closing the pipe, or with SIGKILL when a call runs away. A panic here
//! or in the addon (which catches its own) becomes an `error` answer, never an abort.

mod msgpack;
mod napi;

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::FromRawFd;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::process::exit;

use msgpack::{Mp, Writer};
use napi::{Handle, Thrown};

#[cfg_attr(target_os = "linux", link(name = "dl"))]
extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
}

/// RTLD_LAZY, as Node's process.dlopen.
const RTLD_LAZY: c_int = 1;

/// What a call is charged by: this thread's CPU time (the addon runs on this thread), as its
/// wall time on a busy machine is mostly waiting for a core; wall time where there is no such clock.
fn charge_clock_ms() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    isg_cpu_clock::thread_cpu_ms().unwrap_or_else(|| START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1000.0)
}

/// Frames larger than this are refused (pipe-frames.ts MAX_PIPE_FRAME_BYTES).
const MAX_FRAME_BYTES: usize = (1 << 31) - 1;
/// The key of a message whose payload follows its frame (pipe-frames.ts PAYLOAD_KEY).
const PAYLOAD_KEY: &str = "payloadBytes";

type RegisterModule = unsafe extern "C" fn(napi::napi_env, napi::napi_value) -> napi::napi_value;

/// The loaded addon: its exports object.
struct Addon {
    exports: Handle,
}

#[derive(Default)]
struct Host {
    addon: Option<Addon>,
    /// How many values outlast a request: the exports and the attached snapshot's form.
    keep: usize,
    /// Values made at load: what a new snapshot's form replaces everything above.
    loaded: usize,
    /// The bytes of the attached snapshot (8-aligned, as its Uint32Arrays need).
    snapshot: Option<Vec<u64>>,
    /// The snapshot form's constants (names of entity and edge kinds, ...), from `load`.
    vocabulary: Option<Mp>,
    /// Why the last snapshot could not be attached: every call answers with it until the next.
    attach_error: Option<Thrown>,
}

fn main() {
    // SAFETY: fd 3 is the pipe the daemon opened for this process (stdio[3]); nothing else owns it.
    let pipe = unsafe { File::from_raw_fd(3) };
    let mut host = Host::default();
    loop {
        let (message, payload) = match read_message(&pipe) {
            Ok(Some(m)) => m,
            Ok(None) => exit(0),
            Err(e) => {
                eprintln!("isg-process-host: {e}");
                exit(1);
            }
        };
        let answer = match panic::catch_unwind(AssertUnwindSafe(|| host.handle(&message, payload))) {
            Ok(answer) => answer,
            Err(payload) => {
                let why = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
                host.failure(&message, &format!("the native plugin host failed: {why}"))
            }
        };
        napi::truncate(host.keep);
        if let Some(body) = answer {
            if write_frame(&pipe, &body).is_err() {
                exit(1);
            }
        }
    }
}

/// The next message and its payload; None once the daemon has closed the pipe.
fn read_message(mut pipe: &File) -> io::Result<Option<(Mp, Option<Vec<u64>>)>> {
    let mut header = [0u8; 4];
    match pipe.read_exact(&mut header) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let length = u32::from_be_bytes(header) as usize;
    if length > MAX_FRAME_BYTES {
        return Err(io::Error::other(format!("a frame of {length} bytes is larger than {MAX_FRAME_BYTES}")));
    }
    let mut body = vec![0u8; length];
    pipe.read_exact(&mut body)?;
    let message = msgpack::decode(&body).map_err(|e| io::Error::other(format!("a malformed message: {e}")))?;
    let payload = match message.num(PAYLOAD_KEY) {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= MAX_FRAME_BYTES as f64 => {
            let n = n as usize;
            let mut words = vec![0u64; n.div_ceil(8)];
            // SAFETY: the words span at least n bytes, and any byte pattern is a valid u64.
            let bytes = unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr() as *mut u8, n) };
            pipe.read_exact(bytes)?;
            Some(words)
        }
        _ => None,
    };
    Ok(Some((message, payload)))
}

fn write_frame(mut pipe: &File, body: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(body);
    pipe.write_all(&frame)
}

impl Host {
    /// The answer to one message (none to a snapshot), encoded.
    fn handle(&mut self, m: &Mp, payload: Option<Vec<u64>>) -> Option<Vec<u8>> {
        match m.str("t") {
            Some("load") => Some(self.load(m)),
            Some("snapshot") => {
                self.attach(m, payload);
                None
            }
            Some("call") | Some("update") => Some(self.request(m)),
            _ => None,
        }
    }

    fn load(&mut self, m: &Mp) -> Vec<u8> {
        let file = m.str("file").unwrap_or_default();
        let name = m.str("name").unwrap_or("?");
        self.vocabulary = m.get("vocabulary").cloned();
        match open(file) {
            Ok(exports) => {
                self.addon = Some(Addon { exports });
                self.loaded = napi::mark();
                self.keep = self.loaded;
                let mut w = Writer::default();
                let memory = self.memory();
                w.map(if memory.is_some() { 3 } else { 2 });
                w.str("t");
                w.str("ready");
                w.str("exports");
                w.map(3);
                for key in ["abi", "ops"] {
                    w.str(key);
                    if napi::write(&mut w, napi::get(exports, key)).is_err() {
                        w.nil();
                    }
                }
                w.str("functions");
                let functions = napi::function_names(exports);
                w.array(functions.len());
                for f in &functions {
                    w.str(f);
                }
                if let Some(bytes) = memory {
                    w.str("memory");
                    w.number(bytes);
                }
                w.out
            }
            Err(why) => {
                let mut w = Writer::default();
                w.map(2);
                w.str("t");
                w.str("load-error");
                w.str("message");
                w.str(&format!("native plugin \"{name}\": {file} could not be loaded as a Node-API addon: {why}"));
                w.out
            }
        }
    }

    /// Builds the snapshot's form as native-addon.ts attachForm does, over the payload, and
    /// hands it to the addon's attach().
    fn attach(&mut self, m: &Mp, payload: Option<Vec<u64>>) {
        let Some(mut words) = payload else {
            self.attach_error = Some(Thrown { code: None, message: "a snapshot came without its bytes".into() });
            return;
        };
        // The previous form goes; its bytes stay until the addon lets go of them (below).
        napi::truncate(self.loaded);
        self.keep = self.loaded;
        let bytes = m.num(PAYLOAD_KEY).unwrap_or(0.0) as usize;
        let data = words.as_mut_ptr() as *mut u8;
        let form = match self.form(m, data, bytes) {
            Ok(form) => form,
            Err(message) => {
                self.attach_error = Some(Thrown { code: None, message });
                return;
            }
        };
        let outcome = match &self.addon {
            Some(addon) => napi::call(napi::get(addon.exports, "attach"), addon.exports, &[form]),
            None => Err(Thrown { code: None, message: "no addon is loaded".into() }),
        };
        match outcome {
            Ok(_) => {
                self.attach_error = None;
                // The addon now reads these bytes and has let go of the previous ones.
                self.snapshot = Some(words);
                self.keep = napi::mark();
            }
            // The addon keeps the previous snapshot attached, so its bytes stay.
            Err(thrown) => self.attach_error = Some(thrown),
        }
    }

    fn form(&self, m: &Mp, data: *mut u8, bytes: usize) -> Result<Handle, String> {
        let form = napi::new_object();
        for key in ["generation", "nodeCount", "edgeCount"] {
            napi::set(form, key, napi::from_mp(m.get(key).unwrap_or(&Mp::Undefined)));
        }
        let Some(Mp::Map(layout)) = m.get("layout") else { return Err("the snapshot has no layout".into()) };
        for (name, at) in layout {
            let (kind, offset, len) = match at {
                Mp::Array(p) if p.len() == 2 => match (&p[0], &p[1]) {
                    (Mp::Number(o), Mp::Number(l)) => (typed_kind(name)?, *o as usize, *l as usize),
                    _ => return Err(format!("snapshot layout of {name} is not [byteOffset, length]")),
                },
                _ => return Err(format!("snapshot layout of {name} is not [byteOffset, length]")),
            };
            napi::set(form, name, napi::borrowed_typed(data, bytes, kind, offset, len)?);
        }
        napi::set(form, "fileTable", napi::from_mp(m.get("fileTable").unwrap_or(&Mp::Undefined)));
        if let Some(Mp::Map(fields)) = &self.vocabulary {
            for (k, v) in fields {
                napi::set(form, k, napi::from_mp(v));
            }
        }
        Ok(form)
    }

    /// A call or an update: its answer, with the memory the plugin holds after it.
    fn request(&mut self, m: &Mp) -> Vec<u8> {
        // What the call takes here, not counting the answer's encoding: an update hook is charged this.
        let started = charge_clock_ms();
        let outcome = match (&self.attach_error, &self.addon) {
            (Some(thrown), _) => Err(thrown.clone()),
            (None, None) => Err(Thrown { code: None, message: "no addon is loaded".into() }),
            (None, Some(addon)) => {
                let (function, args) = if m.str("t") == Some("call") {
                    let op = napi::from_mp(m.get("op").unwrap_or(&Mp::Undefined));
                    ("call", vec![op, napi::from_mp(m.get("args").unwrap_or(&Mp::Nil))])
                } else {
                    ("update", vec![napi::from_mp(m.get("update").unwrap_or(&Mp::Undefined))])
                };
                let f = napi::get(addon.exports, function);
                if napi::is_function(f) {
                    napi::call(f, addon.exports, &args)
                } else {
                    Err(Thrown { code: None, message: format!("the addon exports no {function}()") })
                }
            }
        };
        let spent = charge_clock_ms() - started;
        // `value ?? null`; a value that cannot be written is the call's error.
        let outcome = outcome.and_then(|value| {
            let mut v = Writer::default();
            if napi::as_nullish(value) {
                v.nil();
            } else {
                napi::write(&mut v, value).map_err(|message| Thrown { code: None, message })?;
            }
            Ok(v.out)
        });
        let memory = self.memory();
        let mut w = Writer::default();
        let fields = match &outcome {
            Ok(_) => 3,
            Err(thrown) => 3 + thrown.code.is_some() as usize,
        };
        w.map(fields + 1 + memory.is_some() as usize);
        w.str("t");
        w.str(if outcome.is_ok() { "result" } else { "error" });
        w.str("id");
        w.number(m.num("id").unwrap_or(0.0));
        match outcome {
            Ok(value) => {
                w.str("value");
                w.out.extend_from_slice(&value);
            }
            Err(thrown) => {
                if let Some(code) = &thrown.code {
                    w.str("code");
                    w.str(code);
                }
                w.str("message");
                w.str(&thrown.message);
            }
        }
        if let Some(bytes) = memory {
            w.str("memory");
            w.number(bytes);
        }
        w.str("spent");
        w.number(spent);
        w.out
    }

    /// The answer to a message the host itself failed on: `error` to a call or update,
    /// `load-error` to a load.
    fn failure(&mut self, m: &Mp, message: &str) -> Option<Vec<u8>> {
        let mut w = Writer::default();
        if m.str("t") == Some("load") {
            w.map(2);
            w.str("t");
            w.str("load-error");
            w.str("message");
            w.str(&format!("native plugin \"{}\": {message}", m.str("name").unwrap_or("?")));
            return Some(w.out);
        }
        if !matches!(m.str("t"), Some("call") | Some("update")) {
            return None;
        }
        w.map(3);
        w.str("t");
        w.str("error");
        w.str("id");
        w.number(m.num("id").unwrap_or(0.0));
        w.str("message");
        w.str(message);
        Some(w.out)
    }

    /// What the plugin holds now, when its addon can say (its `memory` export).
    fn memory(&self) -> Option<f64> {
        let addon = self.addon.as_ref()?;
        let f = napi::get(addon.exports, "memory");
        if !napi::is_function(f) {
            return None;
        }
        napi::call(f, addon.exports, &[]).ok().and_then(napi::as_number)
    }
}

/// The element type of a snapshot array (daemon/graph/csr.ts ARRAY_TYPES): the byte arrays
/// are named `...Kinds` and `keyBytes`, the rest are Uint32Arrays.
fn typed_kind(name: &str) -> Result<i32, String> {
    match name {
        "entityKinds" | "outKinds" | "inKinds" | "keyBytes" => Ok(napi::UINT8_ARRAY),
        "files" | "outOffsets" | "outTargets" | "inOffsets" | "inSources" | "keyOffsets" => Ok(napi::UINT32_ARRAY),
        other => Err(format!("the snapshot has an array {other} this host does not know")),
    }
}

/// dlopen()s the addon and registers it, as Node's process.dlopen does: its exports object.
fn open(file: &str) -> Result<Handle, String> {
    let path = CString::new(file).map_err(|_| "the file name holds a NUL".to_string())?;
    // SAFETY: path is NUL-terminated; dlerror's string is read before any other dl call.
    let lib = unsafe { dlopen(path.as_ptr(), RTLD_LAZY) };
    if lib.is_null() {
        return Err(last_dl_error());
    }
    // SAFETY: as above.
    let symbol = unsafe { dlsym(lib, c"napi_register_module_v1".as_ptr()) };
    if symbol.is_null() {
        return Err(format!("Module did not self-register: '{file}'."));
    }
    // SAFETY: napi_register_module_v1 has this signature in every Node-API addon.
    let register: RegisterModule = unsafe { std::mem::transmute::<*mut c_void, RegisterModule>(symbol) };
    let exports = napi::new_object();
    // SAFETY: the environment's functions are this executable's; exports is a live value.
    let returned = unsafe { register(napi::env(), napi::value(exports)) };
    // As Node: a module may return other exports than it was given.
    Ok(napi::handle(returned).unwrap_or(exports))
}

fn last_dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string valid until the next dl call.
    let e = unsafe { dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}
