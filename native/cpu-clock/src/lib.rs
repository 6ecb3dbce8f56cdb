//! The calling thread's CPU time (user and system), what a plugin's call is charged: on a busy
//! machine a call's wall time is mostly waiting for a core (daemon/util/thread-clock.ts). The one
//! place that declares `clock_gettime`; used by the thread-clock addon (plugin workers, the Node
//! child of process isolation) and by the Rust process host.

/// The calling thread's CPU time in ms since it started; None where it cannot be read here.
#[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
pub fn thread_cpu_ms() -> Option<f64> {
    use std::os::raw::c_int;
    /// The 64-bit layout: time_t and long are both 64 bits.
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: c_int, tp: *mut Timespec) -> c_int;
    }
    #[cfg(target_os = "linux")]
    const CLOCK_THREAD_CPUTIME_ID: c_int = 3;
    #[cfg(target_os = "macos")]
    const CLOCK_THREAD_CPUTIME_ID: c_int = 16;
    let mut t = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to write.
    (unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0).then(|| t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6)
}

/// Elsewhere there is no thread clock: callers use wall time.
#[cfg(not(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64")))]
pub fn thread_cpu_ms() -> Option<f64> {
    None
}
