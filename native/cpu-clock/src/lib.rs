//! The CPU time of threads (user and system), what a plugin's call is charged: on a busy machine
//! a call's wall time is mostly waiting for a core (daemon/util/thread-clock.ts). The one place
//! that declares `clock_gettime`; used by the thread-clock addon (plugin workers, the Node child
//! of process isolation, and the daemon's thread reading a worker's clock at a call's ceiling)
//! and by the Rust process host.

#[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
mod posix {
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
    pub const CLOCK_THREAD_CPUTIME_ID: c_int = 3;
    #[cfg(target_os = "macos")]
    pub const CLOCK_THREAD_CPUTIME_ID: c_int = 16;

    pub fn read_ms(clock: c_int) -> Option<f64> {
        let mut t = Timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid timespec for the call to write.
        (unsafe { clock_gettime(clock, &mut t) } == 0).then(|| t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6)
    }

    /// Linux has a clock per thread that any thread of the process may read.
    #[cfg(target_os = "linux")]
    pub fn own_clock_id() -> Option<c_int> {
        extern "C" {
            fn pthread_self() -> usize;
            fn pthread_getcpuclockid(thread: usize, clock: *mut c_int) -> c_int;
        }
        let mut id: c_int = 0;
        // SAFETY: pthread_self() is this thread, alive for the call; `id` is valid to write.
        (unsafe { pthread_getcpuclockid(pthread_self(), &mut id) } == 0).then_some(id)
    }

    /// macOS has no pthread_getcpuclockid.
    #[cfg(target_os = "macos")]
    pub fn own_clock_id() -> Option<c_int> {
        None
    }
}

/// The calling thread's CPU time in ms since it started; None where it cannot be read here.
pub fn thread_cpu_ms() -> Option<f64> {
    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    return posix::read_ms(posix::CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64")))]
    None
}

/// The id of a clock by which another thread can read the calling thread's CPU time (Linux).
pub fn thread_clock_id() -> Option<i32> {
    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    return posix::own_clock_id();
    #[cfg(not(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64")))]
    None
}

/// The CPU time, in ms, of the thread whose `thread_clock_id` this is (that thread must still run).
pub fn clock_ms(id: i32) -> Option<f64> {
    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    return posix::read_ms(id);
    #[cfg(not(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64")))]
    {
        let _ = id;
        None
    }
}
