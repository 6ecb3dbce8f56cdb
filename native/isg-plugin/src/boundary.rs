//! The Node-API boundary: the addon's exports and the callbacks behind them. Every callback
//! runs inside `catch_unwind`, so a panic in a plugin becomes a thrown JS error
//! (code `plugin-error`, with the panic's message and location) instead of an abort; an
//! [`OpError`] is thrown with its own code.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Once;

use napi_sys::*;

use crate::js::Env;
use crate::snapshot::{Parts, Raw, Snapshot};
use crate::{Args, Call, Memo, Op, OpError, Plugin, Value, ABI_VERSION};

struct State {
    attached: Option<Attached>,
    memo: Memo,
}

/// The snapshot in use and the references that keep its typed arrays alive.
struct Attached {
    snapshot: Snapshot,
    refs: Vec<napi_ref>,
}

thread_local! {
    static PANIC_LOCATION: Cell<Option<String>> = const { Cell::new(None) };
}

static PANIC_HOOK: Once = Once::new();

/// The entry point's work: set up this environment's state and fill in the exports.
///
/// # Safety
/// `env` and `exports` must be the arguments Node-API passed to `napi_register_module_v1`.
pub unsafe fn register(env: napi_env, exports: napi_value, plugin: &'static Plugin) -> napi_value {
    // The default hook prints to the daemon's stderr; the location goes into the error instead.
    PANIC_HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            PANIC_LOCATION.with(|l| l.set(info.location().map(|loc| format!(" (at {}:{})", loc.file(), loc.line()))));
        }))
    });
    let env = Env(env);
    guard(env, plugin, || "module registration".to_string(), || {
        let state = Box::into_raw(Box::new(RefCell::new(State { attached: None, memo: Memo::default() })));
        env.check(napi_set_instance_data(env.0, state as *mut c_void, finalize_state, ptr::null_mut()), "napi_set_instance_data")?;
        let mut abi = ptr::null_mut();
        env.check(napi_create_double(env.0, ABI_VERSION as f64, &mut abi), "napi_create_double")?;
        env.set_named(exports, c"abi", abi)?;
        env.set_named(exports, c"name", env.new_string(plugin.name)?)?;
        let names: Vec<crate::Value> = plugin.ops.iter().map(|(name, _)| crate::Value::from(*name)).collect();
        env.set_named(exports, c"ops", env.write(&crate::Value::List(names))?)?;
        let mut functions: Vec<(&CStr, napi_callback)> = vec![(c"attach", attach_cb), (c"detach", detach_cb), (c"call", call_cb), (c"memory", memory_cb)];
        // only a plugin with a hook has the export, so the host can tell
        if plugin.on_update.is_some() {
            functions.push((c"update", update_cb));
        }
        for (name, cb) in functions {
            let mut f = ptr::null_mut();
            let data = plugin as *const Plugin as *mut c_void;
            env.check(napi_create_function(env.0, name.as_ptr(), name.to_bytes().len(), cb, data, &mut f), "napi_create_function")?;
            env.set_named(exports, name, f)?;
        }
        Ok(exports)
    })
}

unsafe extern "C" fn finalize_state(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    // The environment is going away, and the references with it: only Rust memory is freed.
    drop(Box::from_raw(data as *mut RefCell<State>));
}

/// Runs `body`, turning an error into a thrown JS error and a panic into one too.
fn guard(env: Env, plugin: &Plugin, what: impl Fn() -> String, body: impl FnOnce() -> Result<napi_value, OpError>) -> napi_value {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            if !env.exception_pending() {
                env.throw(e.code, &e.message);
            }
            ptr::null_mut()
        }
        Err(payload) => {
            let location = PANIC_LOCATION.with(|l| l.take()).unwrap_or_default();
            if !env.exception_pending() {
                env.throw("plugin-error", &format!("native plugin \"{}\" panicked in {}: {}{location}", plugin.name, what(), panic_message(&payload)));
            }
            ptr::null_mut()
        }
    }
}

fn panic_message(payload: &Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// The first `N` arguments of a callback (`undefined` for those not passed).
unsafe fn callback_args<const N: usize>(env: Env, info: napi_callback_info) -> Result<[napi_value; N], OpError> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    env.check(napi_get_cb_info(env.0, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()), "napi_get_cb_info")?;
    let undefined = env.undefined()?;
    for slot in argv.iter_mut().skip(argc) {
        *slot = undefined;
    }
    Ok(argv)
}

unsafe fn state<'a>(env: Env) -> Result<&'a RefCell<State>, OpError> {
    let mut data = ptr::null_mut();
    env.check(napi_get_instance_data(env.0, &mut data), "napi_get_instance_data")?;
    if data.is_null() {
        return Err(OpError::plugin("the addon's state is missing (was it registered in this environment?)"));
    }
    Ok(&*(data as *const RefCell<State>))
}

/// The plugin a callback belongs to (the function's data pointer).
unsafe fn plugin_of(env: Env, info: napi_callback_info) -> &'static Plugin {
    static UNKNOWN: Plugin = Plugin { name: "?", ops: &[], on_update: None };
    let mut data = ptr::null_mut();
    let mut argc = 0usize;
    if napi_get_cb_info(env.0, info, &mut argc, ptr::null_mut(), ptr::null_mut(), &mut data) != NAPI_OK || data.is_null() {
        return &UNKNOWN;
    }
    &*(data as *const Plugin)
}

unsafe extern "C" fn attach_cb(raw: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw);
    guard(env, plugin_of(env, info), || "attach".to_string(), || {
        let [snapshot] = callback_args::<1>(env, info)?;
        if env.type_of(snapshot)? != NAPI_OBJECT {
            return Err(OpError::plugin("attach(snapshot) needs the snapshot object"));
        }
        let (attached, refs) = read_snapshot(env, snapshot)?;
        let state = state(env)?;
        let mut state = state.borrow_mut();
        let previous = state.attached.take();
        if previous.as_ref().map(|p| p.snapshot.generation) != Some(attached.generation) {
            state.memo = Memo::default();
        }
        if let Some(p) = previous {
            release(env, p.refs);
        }
        state.attached = Some(Attached { snapshot: attached, refs });
        env.undefined()
    })
}

unsafe extern "C" fn detach_cb(raw: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw);
    guard(env, plugin_of(env, info), || "detach".to_string(), || {
        let state = state(env)?;
        let mut state = state.borrow_mut();
        if let Some(p) = state.attached.take() {
            release(env, p.refs);
        }
        state.memo = Memo::default();
        env.undefined()
    })
}

unsafe extern "C" fn call_cb(raw: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw);
    let running = RefCell::new(String::new());
    let what = || match running.borrow().as_str() {
        "" => "call".to_string(),
        op => format!("op \"{op}\""),
    };
    let plugin = plugin_of(env, info);
    guard(env, plugin, what, || {
        let [op, args] = callback_args::<2>(env, info)?;
        if env.type_of(op)? != NAPI_STRING {
            return Err(OpError::bad_args("call(op, args): op must be a string"));
        }
        let op = env.string(op, "op name")?;
        let Some((_, run)) = plugin.ops.iter().find(|(name, _)| *name == op) else {
            let known: Vec<&str> = plugin.ops.iter().map(|(name, _)| *name).collect();
            return Err(OpError { code: "unknown-op", message: format!("native plugin \"{}\" has no op \"{op}\"; it has: {}", plugin.name, known.join(", ")) });
        };
        *running.borrow_mut() = op;
        let result = run_op(env, Args::from_value(env.read(args, 0)?)?, *run)?;
        env.write(&result)
    })
}

unsafe extern "C" fn update_cb(raw: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw);
    let plugin = plugin_of(env, info);
    guard(env, plugin, || "its update hook".to_string(), || {
        let hook = plugin.on_update.ok_or_else(|| OpError::plugin("update(update): the plugin has no update hook"))?;
        let [update] = callback_args::<1>(env, info)?;
        run_op(env, Args::from_value(env.read(update, 0)?)?, hook)?;
        env.undefined()
    })
}

unsafe extern "C" fn memory_cb(raw: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw);
    guard(env, plugin_of(env, info), || "memory".to_string(), || {
        let mut bytes = ptr::null_mut();
        env.check(napi_create_double(env.0, crate::alloc::held() as f64, &mut bytes), "napi_create_double")?;
        Ok(bytes)
    })
}

/// An op (or the update hook) with the attached snapshot and the generation's memo.
unsafe fn run_op(env: Env, args: Args, op: Op) -> Result<Value, OpError> {
    let state = state(env)?;
    let mut state = state.borrow_mut();
    let State { attached, memo } = &mut *state;
    let mut call = Call { args, snapshot: attached.as_ref().map(|a| &a.snapshot), memo };
    op(&mut call)
}

unsafe fn release(env: Env, refs: Vec<napi_ref>) {
    for r in refs {
        napi_delete_reference(env.0, r);
    }
}

/// The snapshot's fields, as daemon/plugins/native-addon.ts `attachForm` lays them out.
unsafe fn read_snapshot(env: Env, s: napi_value) -> Result<(Snapshot, Vec<napi_ref>), OpError> {
    let mut refs = Vec::with_capacity(10);
    let outcome = read_snapshot_into(env, s, &mut refs);
    if outcome.is_err() {
        release(env, std::mem::take(&mut refs));
    }
    outcome.map(|snapshot| (snapshot, refs))
}

unsafe fn read_snapshot_into(env: Env, s: napi_value, refs: &mut Vec<napi_ref>) -> Result<Snapshot, OpError> {
    let parts = Parts {
        entity_kinds: held(env, s, c"entityKinds", refs)?,
        files: held(env, s, c"files", refs)?,
        out_offsets: held(env, s, c"outOffsets", refs)?,
        out_targets: held(env, s, c"outTargets", refs)?,
        out_kinds: held(env, s, c"outKinds", refs)?,
        in_offsets: held(env, s, c"inOffsets", refs)?,
        in_sources: held(env, s, c"inSources", refs)?,
        in_kinds: held(env, s, c"inKinds", refs)?,
        key_offsets: held(env, s, c"keyOffsets", refs)?,
        key_bytes: held(env, s, c"keyBytes", refs)?,
    };
    let count = |name: &CStr, max: f64| -> Result<f64, OpError> {
        let n = env.number(env.named(s, name)?, name.to_str().unwrap_or("?"))?;
        if n < 0.0 || n.fract() != 0.0 || n > max {
            return Err(OpError::plugin(format!("snapshot field {} is not an integer from 0 to {max}: {n}", name.to_str().unwrap_or("?"))));
        }
        Ok(n)
    };
    let max_u32 = u32::MAX as f64;
    Snapshot {
        generation: count(c"generation", f64::MAX)?,
        node_count: count(c"nodeCount", max_u32)? as usize,
        edge_count: count(c"edgeCount", max_u32)? as usize,
        parts,
        file_table: env.strings(env.named(s, c"fileTable")?, "fileTable")?,
        entity_kind_names: env.strings(env.named(s, c"entityKindNames")?, "entityKindNames")?,
        edge_kind_names: env.strings(env.named(s, c"edgeKindNames")?, "edgeKindNames")?,
        inferred_bit: count(c"inferredBit", 255.0)? as u8,
        dead_kind: count(c"deadKind", 255.0)? as u8,
    }
    .checked()
    .map_err(OpError::plugin)
}

/// A typed array field of the snapshot, in place, with a reference that keeps it alive.
unsafe fn held<T: Element>(env: Env, s: napi_value, name: &CStr, refs: &mut Vec<napi_ref>) -> Result<Raw<T>, OpError> {
    let v = env.named(s, name)?;
    let raw = env.typed_array(v, T::KIND, name.to_str().unwrap_or("?"))?;
    let mut r = ptr::null_mut();
    env.check(napi_create_reference(env.0, v, 1, &mut r), "napi_create_reference")?;
    refs.push(r);
    Ok(raw)
}

trait Element {
    const KIND: napi_typedarray_type;
}
impl Element for u8 {
    const KIND: napi_typedarray_type = NAPI_UINT8_ARRAY;
}
impl Element for u32 {
    const KIND: napi_typedarray_type = NAPI_UINT32_ARRAY;
}
