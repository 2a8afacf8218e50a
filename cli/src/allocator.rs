//! The server's allocator: mimalloc, told to give freed memory back to the system soon.
//!
//! glibc's allocator keeps freed per-thread arenas (password hashing takes ~19 MiB a
//! login), which left the server near 700 MB after 200 logins; mimalloc returns memory,
//! but by default only a second after it was freed (`purge_delay`). Phones sign in and
//! take their first pulls in the same minutes: through 200 of them, memory freed by the
//! logins and the first pages was still held while the next pages were built. The
//! server peaked at 147–160 MB through them, against 109–120 MB with 100 ms, and 119–157
//! MB with 250 ms (`bench sync`, BENCHMARKS.md "Session 14"); 0 (purging at every free)
//! cost the pushes about a tenth of their rate.

#![allow(unsafe_code)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`: the 16th option, in v2 and v3 alike).
/// The `libmimalloc-sys` crate names only some of the options.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's documented default for it, by which the option's number is checked.
const PURGE_DELAY_DEFAULT_MS: std::ffi::c_long = 1000;

/// How long freed memory is kept for reuse before it goes back to the system.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

/// Shortens mimalloc's purge delay, unless `MIMALLOC_PURGE_DELAY` set it (mimalloc reads
/// that itself) or the option is not where this build expects it.
pub fn return_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mimalloc's options are plain integers it reads and writes atomically;
    // getting and setting one touches no memory of ours.
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == PURGE_DELAY_DEFAULT_MS {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_the_option_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        return_freed_memory_soon();
        // SAFETY: reads an option, as above.
        let delay = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(delay, PURGE_DELAY_MS, "option {PURGE_DELAY} is not mimalloc's purge delay in this build");
    }
}
