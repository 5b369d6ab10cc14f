//! The row of each hashed feature bucket that has one.

/// Which of `bucket_count` buckets have a row, as a bitmap, with the number
/// of rows before each 64-bit word of it: a bucket's row is that number plus
/// the set bits below it in its word. A twentieth of the size of a table of
/// rows by bucket, which mattered: a model is loaded at every start of a
/// tool, and filling a 2 MB table cost more than the rest of the loading.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowIndex {
    bits: Vec<u64>,
    rows_before: Vec<u32>,
}

impl RowIndex {
    /// Row `i` is bucket `buckets[i]`; `None` unless the buckets are strictly
    /// increasing and below `bucket_count`.
    pub fn new(buckets: &[u32], bucket_count: usize) -> Option<RowIndex> {
        let words = bucket_count.div_ceil(64);
        let mut bits = vec![0u64; words];
        let mut previous = None;
        for &bucket in buckets {
            if previous.is_some_and(|p| p >= bucket) || bucket as usize >= bucket_count {
                return None;
            }
            previous = Some(bucket);
            bits[(bucket / 64) as usize] |= 1 << (bucket % 64);
        }
        let mut rows_before = Vec::with_capacity(words);
        let mut rows = 0;
        for word in &bits {
            rows_before.push(rows);
            rows += word.count_ones();
        }
        Some(RowIndex { bits, rows_before })
    }

    /// The row of `bucket`, if it has one.
    #[inline(always)]
    pub fn row(&self, bucket: u32) -> Option<u32> {
        let (row, has_row) = self.row_if_any(bucket);
        has_row.then_some(row)
    }

    /// The row `bucket` has or would have, and whether it has one: worked
    /// out without a branch, for callers that keep going either way.
    #[inline(always)]
    pub fn row_if_any(&self, bucket: u32) -> (u32, bool) {
        let word = (bucket / 64) as usize;
        let bit = 1u64 << (bucket % 64);
        let bits = self.bits[word];
        (
            self.rows_before[word] + (bits & (bit - 1)).count_ones(),
            bits & bit != 0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_bucket_order() {
        let buckets = [0, 5, 63, 64, 200, 1023];
        let index = RowIndex::new(&buckets, 1024).unwrap();
        for (row, &bucket) in buckets.iter().enumerate() {
            assert_eq!(index.row(bucket), Some(row as u32), "bucket {bucket}");
        }
        for bucket in [1, 62, 65, 199, 201, 1022] {
            assert_eq!(index.row(bucket), None, "bucket {bucket}");
        }
    }

    #[test]
    fn refuses_unordered_or_out_of_range_buckets() {
        assert!(RowIndex::new(&[3, 3], 64).is_none());
        assert!(RowIndex::new(&[5, 2], 64).is_none());
        assert!(RowIndex::new(&[64], 64).is_none());
        assert!(RowIndex::new(&[], 64).is_some());
    }
}
