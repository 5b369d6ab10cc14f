//! Appending short byte strings without a call into libc's `memcpy`.
//!
//! `Vec::extend_from_slice` of a slice whose length is known only at run
//! time calls `memcpy`, which then dispatches on the length: a call and
//! about 24 instructions (callgrind, 1.17M calls on the 3,000 bench tickets
//! in support-triage) for what is most often a field name, a label or a
//! piece of a reason. Such a piece is copied here as two fixed-size blocks
//! that overlap in the middle, which the compiler turns into a load and a
//! store each.

use std::fmt;

/// Appends `bytes` to `out`.
#[inline]
pub fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len > 32 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(32);
    let src = bytes.as_ptr();
    // SAFETY: `out` has room for 32 more bytes, `bytes` is `len` (at most
    // 32) readable bytes, and each copy below reads and writes within the
    // first `len` of them; they are then all written, so `len` more are set.
    unsafe {
        let dst = out.as_mut_ptr().add(out.len());
        match len {
            16.. => copy_overlapping::<16>(src, dst, len),
            8.. => copy_overlapping::<8>(src, dst, len),
            4.. => copy_overlapping::<4>(src, dst, len),
            2.. => copy_overlapping::<2>(src, dst, len),
            1 => *dst = *src,
            0 => {}
        }
        out.set_len(out.len() + len);
    }
}

/// Copies `len` bytes, `N` to `2 * N` of them, as the first `N` and the last `N`.
///
/// # Safety
/// `src` and `dst` are valid for `len` bytes, which do not overlap, and
/// `N <= len <= 2 * N`.
#[inline(always)]
unsafe fn copy_overlapping<const N: usize>(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: both blocks lie within the first `len` bytes (the caller's `N <= len`).
    unsafe {
        std::ptr::copy_nonoverlapping(src, dst, N);
        std::ptr::copy_nonoverlapping(src.add(len - N), dst.add(len - N), N);
    }
}

/// A `String` that `write!` appends to with [`append`]: what the `text!`
/// macro writes its reasons through.
pub struct TextWriter<'a>(pub &'a mut String);

impl fmt::Write for TextWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: a whole `str` is appended, so the text stays UTF-8.
        append(unsafe { self.0.as_mut_vec() }, s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length to past the longest short copy, after every length of
    /// text already there, gives the bytes `extend_from_slice` gives.
    #[test]
    fn appends_as_extend_from_slice_does() {
        let source: Vec<u8> = (0..80u8).map(|b| b.wrapping_mul(37)).collect();
        let (written, appended) = source.split_at(40);
        for before in 0..=written.len() {
            for len in 0..=appended.len() {
                let mut expected = written[..before].to_vec();
                expected.extend_from_slice(&appended[..len]);
                let mut out = written[..before].to_vec();
                append(&mut out, &appended[..len]);
                assert_eq!(out, expected, "{before} then {len}");
            }
        }
    }

    #[test]
    fn text_writer_appends_formatted_text() {
        let mut text = String::from("score");
        fmt::Write::write_fmt(
            &mut TextWriter(&mut text),
            format_args!(" {} of {}: ñandú", 61.5, 100),
        )
        .unwrap();
        assert_eq!(text, "score 61.5 of 100: ñandú");
    }
}
