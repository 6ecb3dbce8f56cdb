//! isg's own addon, not a plugin: one export, `trim()`, which calls glibc's `malloc_trim(0)`
//! and returns whether memory was given back. Since glibc 2.8 it walks every arena (the main
//! one and each thread's) and returns the free pages inside them with `madvise(MADV_DONTNEED)`,
//! not only the top of the heap. glibc otherwise keeps freed memory resident when anything
//! allocated later sits above it: V8's TurboFan zones for QuickJS's interpreter loop (~14 MB,
//! freed, BENCHMARKS.md section 11) stay in the RSS for the life of the process.
//! daemon/util/malloc-trim.ts decides when to call it (when plugin work has gone idle).
//!
//! Built for Linux with glibc only (`native/build.mjs`); elsewhere the daemon does not trim.

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
compile_error!("malloc_trim is glibc's: build this addon for linux-*-gnu only");

use std::os::raw::c_int;
use std::panic::catch_unwind;
use std::ptr;

use napi_sys::*;

extern "C" {
    fn malloc_trim(pad: usize) -> c_int;
}

unsafe extern "C" fn trim_cb(env: napi_env, _info: napi_callback_info) -> napi_value {
    // Nothing here can panic, but no unwind may cross into the host (native/ARCHITECTURE invariant).
    let released = catch_unwind(|| unsafe { malloc_trim(0) != 0 }).unwrap_or(false);
    let mut result = ptr::null_mut();
    napi_get_boolean(env, released, &mut result);
    result
}

/// # Safety
/// Called by Node-API (node, deno) with its environment and the module's exports.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let mut f = ptr::null_mut();
    if napi_create_function(env, c"trim".as_ptr(), 4, trim_cb, ptr::null_mut(), &mut f) == NAPI_OK {
        napi_set_named_property(env, exports, c"trim".as_ptr(), f);
    }
    exports
}
