//! isg's own addon, not a plugin: the CPU time of the calling thread, which JavaScript cannot
//! read (`process.cpuUsage()` sums every thread of the process; `/proc/thread-self/schedstat`
//! moves only at the scheduler's tick, 4 ms here). A plugin worker charges each call the CPU
//! time its thread spent on it (daemon/plugins/wasm/worker.ts): on a busy machine a call's wall
//! time is mostly waiting for a core (a 0.2 ms call measured 1-2 ms, of which 1-1.6 in the run
//! queue), which is not the plugin's doing.
//!
//! Exports: `cpuMs()`, the calling thread's CPU time (user and system) in ms since it started;
//! `clockId()`, a number by which another thread reads that time with `cpuMsOf(id)` (Linux;
//! undefined elsewhere): at a call's ceiling the daemon's thread asks how much CPU the plugin's
//! worker has had, to tell a runaway call from a starved one.
//!
//! Built for Linux and macOS (`native/build.mjs`); elsewhere (or where the clock cannot be read:
//! `cpuMs()` returns undefined) a worker charges wall time.

use std::panic::catch_unwind;
use std::ptr;

use isg_cpu_clock::{clock_ms, thread_clock_id, thread_cpu_ms};
use napi_sys::*;

/// A number, or undefined for None.
unsafe fn number(env: napi_env, value: Option<f64>) -> napi_value {
    let mut result = ptr::null_mut();
    match value {
        Some(x) => napi_create_double(env, x, &mut result),
        None => napi_get_undefined(env, &mut result),
    };
    result
}

// No unwind may cross into the host (ARCHITECTURE.md, native/ invariant): each callback's work
// runs under catch_unwind.

unsafe extern "C" fn cpu_ms_cb(env: napi_env, _info: napi_callback_info) -> napi_value {
    number(env, catch_unwind(thread_cpu_ms).unwrap_or(None))
}

unsafe extern "C" fn clock_id_cb(env: napi_env, _info: napi_callback_info) -> napi_value {
    number(env, catch_unwind(thread_clock_id).unwrap_or(None).map(f64::from))
}

unsafe extern "C" fn cpu_ms_of_cb(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argc = 1usize;
    let mut argv = [ptr::null_mut(); 1];
    let mut id = f64::NAN;
    if napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) != NAPI_OK || argc < 1 || napi_get_value_double(env, argv[0], &mut id) != NAPI_OK || id.fract() != 0.0 || id < i32::MIN as f64 || id > i32::MAX as f64 {
        return number(env, None);
    }
    number(env, catch_unwind(|| clock_ms(id as i32)).unwrap_or(None))
}

/// # Safety
/// Called by Node-API (node, deno) with its environment and the module's exports, once per
/// thread that loads it (a worker loads it for itself).
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let functions: [(&std::ffi::CStr, napi_callback); 3] = [(c"cpuMs", cpu_ms_cb), (c"clockId", clock_id_cb), (c"cpuMsOf", cpu_ms_of_cb)];
    for (name, cb) in functions {
        let mut f = ptr::null_mut();
        if napi_create_function(env, name.as_ptr(), name.to_bytes().len(), cb, ptr::null_mut(), &mut f) == NAPI_OK {
            napi_set_named_property(env, exports, name.as_ptr(), f);
        }
    }
    exports
}
