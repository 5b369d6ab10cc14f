//! mimalloc as the global allocator, asked for alignment only when a layout
//! needs more than its blocks already give.
//!
//! The `mimalloc` crate sends every allocation to `mi_malloc_aligned`. In
//! mimalloc 3 that takes the plain path only for small blocks or blocks of
//! a power-of-two size; any other request over 1 KiB (a ticket's token and
//! feature lists, its output line) was over-allocated and aligned by hand:
//! 14 a ticket in support-triage at about 370 instructions each, where a
//! `mi_malloc` call takes 34 on average (callgrind, README "Benchmarks").
//! The same was reported upstream: purpleprotocol/mimalloc_rust#170.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// mimalloc's guaranteed alignment (`MI_MAX_ALIGN_SIZE`, as `max_align_t`).
const MAX_NATURAL_ALIGN: usize = 16;

/// Whether a plain block of `size` bytes is aligned to `align`: mimalloc's
/// pages start 16-aligned and a block's size class is a multiple of any
/// power of two up to 16 that divides the request, so every block of the
/// class is aligned to it.
fn naturally_aligned(size: usize, align: usize) -> bool {
    align <= MAX_NATURAL_ALIGN && size >= align && size.is_multiple_of(align)
}

/// A block for `layout` from mimalloc's `plain` function when its blocks
/// are aligned enough by themselves, else from its `aligned` one.
///
/// # Safety
/// `plain` and `aligned` are mimalloc's (`mi_malloc`, `mi_malloc_aligned`
/// or their zeroing forms).
#[inline]
unsafe fn allocate(
    layout: Layout,
    plain: unsafe extern "C" fn(usize) -> *mut c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    let (size, align) = (layout.size(), layout.align());
    // SAFETY: mimalloc's C API, with a size and a power-of-two alignment.
    unsafe {
        if naturally_aligned(size, align) {
            plain(size).cast()
        } else {
            aligned(size, align).cast()
        }
    }
}

/// The suite's global allocator (binaries choose it with `#[global_allocator]`).
pub struct Mimalloc;

// SAFETY: every pointer comes from mimalloc with the layout's alignment:
// from the plain functions only when `naturally_aligned` holds, else from
// the aligned ones; mimalloc frees and reallocates blocks from either.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions, given the layout.
        unsafe { allocate(layout, mi_malloc, mi_malloc_aligned) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's zeroing allocation functions, given the layout.
        unsafe { allocate(layout, mi_zalloc, mi_zalloc_aligned) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        // SAFETY: `ptr` came from mimalloc; the new block keeps the alignment.
        unsafe {
            if naturally_aligned(new_size, align) {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, align).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `size` bytes at `block` all hold `byte`.
    unsafe fn holds(block: *mut u8, size: usize, byte: u8) -> bool {
        // SAFETY: the caller gives a live block of at least `size` bytes.
        unsafe { std::slice::from_raw_parts(block, size) }
            .iter()
            .all(|&b| b == byte)
    }

    /// Every size class (all sizes to 1,100 bytes, then a spread up to
    /// huge blocks) at every alignment to 4 KiB comes back aligned, zeroed
    /// when asked, and keeps its contents and alignment when it grows
    /// (to a size mimalloc's blocks align by themselves, then to one they
    /// do not).
    #[test]
    fn blocks_are_aligned_as_their_layout_asks() {
        let sizes = (1..=1100).chain((1101..70_000).step_by(997)).chain([
            1 << 20,
            (3 << 20) + 48,
            40 << 20,
        ]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero sizes; each block is freed with its layout.
                unsafe {
                    let zeroed = Mimalloc.alloc_zeroed(layout);
                    assert!((zeroed as usize).is_multiple_of(align), "zeroed {layout:?}");
                    assert!(holds(zeroed, size, 0), "zeroed {layout:?}");
                    Mimalloc.dealloc(zeroed, layout);

                    let mut block = Mimalloc.alloc(layout);
                    assert!(
                        !block.is_null() && (block as usize).is_multiple_of(align),
                        "{layout:?}"
                    );
                    block.write_bytes(0xAB, size);
                    let mut current = layout;
                    for new_size in [size * 2, size * 2 + 5] {
                        block = Mimalloc.realloc(block, current, new_size);
                        assert!(
                            (block as usize).is_multiple_of(align),
                            "{layout:?} to {new_size}"
                        );
                        assert!(holds(block, size, 0xAB), "{layout:?} to {new_size}");
                        current = Layout::from_size_align(new_size, align).unwrap();
                    }
                    Mimalloc.dealloc(block, current);
                }
            }
        }
    }
}
