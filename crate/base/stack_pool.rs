//! Fiber stacks for wasmtime (`Config::with_host_stack`), recycled: a stack given back (a store
//! dropped) waits in a process-wide free list for the next store instead of being unmapped.
//! Unmapping in a process with many threads costs a TLB shootdown on every core (tens of µs),
//! and per-request async stores would pay it, and the mapping, on every request.

use std::ops::Range;
use std::ptr;
use std::sync::Mutex;

use wasmtime::{StackCreator, StackMemory};

/// Free stacks kept for reuse (their touched pages stay resident: a few KiB each).
const KEEP: usize = 1024;

/// A free stack: its whole mapping (guard page first).
struct Mapping {
    base: usize,
    len: usize,
    size: usize,
}

static FREE: Mutex<Vec<Mapping>> = Mutex::new(Vec::new());

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

/// The stack creator of every engine.
pub struct Recycling;

// SAFETY: every stack is a fresh or recycled private mapping of `size` bytes, page aligned, with
// a PROT_NONE guard page below it, zero-filled when `zeroed` is asked.
unsafe impl StackCreator for Recycling {
    fn new_stack(&self, size: usize, zeroed: bool) -> wasmtime::Result<Box<dyn StackMemory>> {
        let page = page_size();
        let size = size.div_ceil(page) * page;
        let reused = {
            let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
            free.iter().position(|m| m.size == size).map(|i| free.swap_remove(i))
        };
        let m = match reused {
            Some(m) => {
                if zeroed {
                    // SAFETY: the stack part of a mapping we own and nobody uses.
                    unsafe { ptr::write_bytes((m.base + page) as *mut u8, 0, m.size) };
                }
                m
            }
            None => map(size, page)?,
        };
        Ok(Box::new(Stack(Some(m), page)))
    }
}

fn map(size: usize, page: usize) -> wasmtime::Result<Mapping> {
    let len = size + page;
    // SAFETY: a new private anonymous mapping; the guard page is made inaccessible below.
    unsafe {
        let base = libc::mmap(ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
        if base == libc::MAP_FAILED {
            wasmtime::bail!("could not map a fiber stack: {}", std::io::Error::last_os_error());
        }
        if libc::mprotect(base, page, libc::PROT_NONE) != 0 {
            let e = std::io::Error::last_os_error();
            libc::munmap(base, len);
            wasmtime::bail!("could not protect a fiber stack's guard page: {e}");
        }
        Ok(Mapping { base: base as usize, len, size })
    }
}

/// A stack in use; its mapping and the page size.
struct Stack(Option<Mapping>, usize);

// SAFETY: the addresses describe the mapping this object owns until it is dropped.
unsafe impl StackMemory for Stack {
    fn top(&self) -> *mut u8 {
        self.0.as_ref().map_or(ptr::null_mut(), |m| (m.base + m.len) as *mut u8)
    }
    fn range(&self) -> Range<usize> {
        self.0.as_ref().map_or(0..0, |m| m.base + self.1..m.base + m.len)
    }
    fn guard_range(&self) -> Range<*mut u8> {
        self.0.as_ref().map_or(ptr::null_mut()..ptr::null_mut(), |m| m.base as *mut u8..(m.base + self.1) as *mut u8)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let Some(m) = self.0.take() else { return };
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < KEEP {
            free.push(m);
            return;
        }
        drop(free);
        // SAFETY: our mapping, no longer used by any fiber (wasmtime drops a stack it is done with).
        unsafe { libc::munmap(m.base as *mut libc::c_void, m.len) };
    }
}
