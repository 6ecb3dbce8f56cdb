//! isg's own addon, not a plugin: glibc's `malloc_trim(0)`, on a thread of its own. Since glibc
//! 2.8 it walks every arena (the main one and each thread's) and returns the free pages inside
//! them with `madvise(MADV_DONTNEED)`, not only the top of the heap. glibc otherwise keeps freed
//! memory resident when anything allocated later sits above it: V8's TurboFan zones for QuickJS's
//! interpreter loop (~14 MB, freed, BENCHMARKS.md section 11) stay in the RSS for the life of the
//! process. A trim takes up to ~15 ms on a big heap: on its own thread the daemon's thread goes
//! on, waiting only if it allocates from an arena while that arena is walked.
//! daemon/util/malloc-trim.ts decides when to trim (when the daemon's work has gone quiet).
//!
//! Exports: `start()` starts a trim and returns true, or false while one is running;
//! `result()` is null until a trim has finished (and while another runs), else
//! `{ released, ms }`: whether glibc gave memory back, and how long it took.
//!
//! Built for Linux with glibc only (`native/build.mjs`); elsewhere the daemon does not trim.

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
compile_error!("malloc_trim is glibc's: build this addon for linux-*-gnu only");

use std::os::raw::c_int;
use std::panic::catch_unwind;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use napi_sys::*;

extern "C" {
    fn malloc_trim(pad: usize) -> c_int;
}

static RUNNING: AtomicBool = AtomicBool::new(false);
/// The last finished trim: its time in ns, with bit 63 set when memory was released; NONE before.
static LAST: AtomicU64 = AtomicU64::new(NONE);
const NONE: u64 = u64::MAX;
const RELEASED: u64 = 1 << 63;

fn start() -> bool {
    if RUNNING.swap(true, Ordering::AcqRel) {
        return false;
    }
    let spawned = thread::Builder::new().name("isg-malloc-trim".into()).stack_size(64 * 1024).spawn(|| {
        let t0 = Instant::now();
        let released = unsafe { malloc_trim(0) } != 0;
        let ns = (t0.elapsed().as_nanos() as u64).min(RELEASED - 1);
        LAST.store(if released { ns | RELEASED } else { ns }, Ordering::Release);
        RUNNING.store(false, Ordering::Release);
    });
    if spawned.is_err() {
        RUNNING.store(false, Ordering::Release);
        return false;
    }
    true
}

unsafe extern "C" fn start_cb(env: napi_env, _info: napi_callback_info) -> napi_value {
    // No unwind may cross into the host (ARCHITECTURE.md, native/ invariant).
    let started = catch_unwind(start).unwrap_or(false);
    let mut result = ptr::null_mut();
    napi_get_boolean(env, started, &mut result);
    result
}

unsafe extern "C" fn result_cb(env: napi_env, _info: napi_callback_info) -> napi_value {
    let mut result = ptr::null_mut();
    let last = LAST.load(Ordering::Acquire);
    if last == NONE || RUNNING.load(Ordering::Acquire) {
        napi_get_null(env, &mut result);
        return result;
    }
    let (mut released, mut ms) = (ptr::null_mut(), ptr::null_mut());
    napi_create_object(env, &mut result);
    napi_get_boolean(env, last & RELEASED != 0, &mut released);
    napi_create_double(env, (last & !RELEASED) as f64 / 1e6, &mut ms);
    napi_set_named_property(env, result, c"released".as_ptr(), released);
    napi_set_named_property(env, result, c"ms".as_ptr(), ms);
    result
}

/// # Safety
/// Called by Node-API (node, deno) with its environment and the module's exports.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let functions: [(&std::ffi::CStr, napi_callback); 2] = [(c"start", start_cb), (c"result", result_cb)];
    for (name, cb) in functions {
        let mut f = ptr::null_mut();
        if napi_create_function(env, name.as_ptr(), name.to_bytes().len(), cb, ptr::null_mut(), &mut f) == NAPI_OK {
            napi_set_named_property(env, exports, name.as_ptr(), f);
        }
    }
    exports
}
