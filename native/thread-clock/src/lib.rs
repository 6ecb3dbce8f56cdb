//! isg's own addon, not a plugin: the CPU time of the calling thread, which JavaScript cannot
//! read (`process.cpuUsage()` sums every thread of the process; `/proc/thread-self/schedstat`
//! moves only at the scheduler's tick, 4 ms here). A plugin worker charges each call the CPU
//! time its thread spent on it (daemon/plugins/wasm/worker.ts): on a busy machine a call's wall
//! time is mostly waiting for a core (a 0.2 ms call measured 1-2 ms, of which 1-1.6 in the run
//! queue), which is not the plugin's doing.
//!
//! Exports: `cpuMs()`, the calling thread's CPU time (user and system) in ms since it started.
//!
//! Built for Linux and macOS (`native/build.mjs`); elsewhere (or where the clock cannot be read:
//! `cpuMs()` returns undefined) a worker charges wall time.

use std::panic::catch_unwind;
use std::ptr;

use isg_cpu_clock::thread_cpu_ms;
use napi_sys::*;

unsafe extern "C" fn cpu_ms_cb(env: napi_env, _info: napi_callback_info) -> napi_value {
    // No unwind may cross into the host (ARCHITECTURE.md, native/ invariant).
    let mut result = ptr::null_mut();
    match catch_unwind(thread_cpu_ms).unwrap_or(None) {
        Some(ms) => napi_create_double(env, ms, &mut result),
        None => napi_get_undefined(env, &mut result),
    };
    result
}

/// # Safety
/// Called by Node-API (node, deno) with its environment and the module's exports, once per
/// thread that loads it (a worker loads it for itself).
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let name = c"cpuMs";
    let mut f = ptr::null_mut();
    if napi_create_function(env, name.as_ptr(), name.to_bytes().len(), cpu_ms_cb, ptr::null_mut(), &mut f) == NAPI_OK {
        napi_set_named_property(env, exports, name.as_ptr(), f);
    }
    exports
}
