//! Activation buffers, zeroed and — on Linux — backed by transparent huge pages.
//!
//! The sparse loops read whole rows of a fiber's activations at random: with 4 KiB pages
//! nearly every row is a TLB miss, and a 16 MiB buffer spans more pages than the TLB
//! holds. Advising the kernel to back the buffer with 2 MiB pages removes most of those
//! misses (about a quarter of a sparse training step at `n = 16384`, BENCHMARKS.md).
//! Written by hand: no crate advises the pages of a `Vec`'s allocation; the advice is a
//! hint, and the buffer is an ordinary `Vec` whatever the kernel does with it.

use crate::Real;
use rayon::prelude::*;

/// Huge page size on the platforms that have them.
const HUGE_PAGE: usize = 1 << 21;

/// A zeroed buffer of `len` scalars.
pub fn zeroed<T: Real>(len: usize) -> Vec<T> {
    // Zero is all-zero bits for floats, so this is a calloc: pages not yet touched, which
    // is when the advice below must come.
    let buf = vec![T::zero(); len];
    advise_huge_pages(&buf);
    buf
}

/// `buf = 0`, in parallel: the buffers are larger than any cache, and one core alone
/// does not saturate the memory bus.
pub fn zero<T: Real>(buf: &mut [T]) {
    buf.par_chunks_mut(1 << 15).for_each(|c| c.fill(T::zero()));
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(buf: &[T]) {
    let start = buf.as_ptr() as usize;
    let end = start + std::mem::size_of_val(buf);
    let (first, last) = (
        start.next_multiple_of(HUGE_PAGE),
        end / HUGE_PAGE * HUGE_PAGE,
    );
    if last > first {
        // SAFETY: `first .. last` lies inside `buf`'s allocation, which we own; MADV_HUGEPAGE
        // changes how pages are backed, never their contents. Failure only loses the hint.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_: &[T]) {}

#[cfg(test)]
mod tests {
    #[test]
    fn buffers_are_zeroed_whatever_their_size() {
        for len in [0, 1, 1000, 3 << 20] {
            let b = super::zeroed::<f32>(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0.0));
        }
    }
}
