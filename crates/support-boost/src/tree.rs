//! One regression tree, grown leaf by leaf (the leaf whose best split gains
//! most goes first) from gradient histograms.
//!
//! Every feature is binned (a bin is a small integer), so a node's histogram
//! holds, per feature and bin, the sums of gradients and hessians and the
//! row count; the best split of a feature is read off it in one pass. The
//! larger child's histogram is the parent's minus the smaller child's.
//!
//! A split sends a set of bins left, stored as a bitset: for an ordered
//! feature the set is a prefix of the bins; for a categorical feature it is
//! a prefix of the bins sorted by their mean gradient, the split a
//! categorical feature can make in one cut that separates high from low
//! (as LightGBM and scikit-learn do).

use serde::{Deserialize, Serialize};

use crate::{Features, Kind};

/// A tree as the model file stores it: one array per node attribute, which
/// reads far faster than an object per node. Node 0 is the root; a node
/// whose `children` are `[0, 0]` is a leaf (no node points at the root).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The feature a split node reads (0 for a leaf).
    pub feature: Vec<u32>,
    /// Left and right child of a split node.
    pub children: Vec<[u32; 2]>,
    /// The bins that go left at a split node (bit `b` of word `b / 64`);
    /// empty for a leaf.
    pub left: Vec<Vec<u64>>,
    /// A leaf's output; a split node's is the training rows' mean output
    /// below it, so that the change along a ticket's path can be laid on the
    /// features that decided it.
    pub value: Vec<f64>,
}

impl Tree {
    fn is_leaf(&self, node: usize) -> bool {
        self.children[node] == [0, 0]
    }

    /// The leaf `bin_of` reaches, calling `on_split(feature, from, to)` for
    /// each split on the way.
    pub fn walk(
        &self,
        bin_of: impl Fn(usize) -> u16,
        mut on_split: impl FnMut(usize, usize, usize),
    ) -> usize {
        let mut at = 0;
        while !self.is_leaf(at) {
            let feature = self.feature[at] as usize;
            let [l, r] = self.children[at];
            let next = if contains(&self.left[at], bin_of(feature)) {
                l
            } else {
                r
            } as usize;
            on_split(feature, at, next);
            at = next;
        }
        at
    }

    /// The leaf's output for a row.
    pub fn output(&self, bin_of: impl Fn(usize) -> u16) -> f64 {
        self.value[self.walk(bin_of, |_, _, _| {})]
    }

    /// Checks the structure a model file could have broken: children in
    /// range and after their parent (so every walk ends), bitsets for every
    /// split, features in range.
    pub(crate) fn check(&self, width: usize) -> Result<(), String> {
        let nodes = self.children.len();
        if nodes == 0
            || self.feature.len() != nodes
            || self.value.len() != nodes
            || self.left.len() != nodes
        {
            return Err("a tree's node arrays differ in length".into());
        }
        for (node, &[l, r]) in self.children.iter().enumerate() {
            if [l, r] == [0, 0] {
                continue;
            }
            let after = |child: u32| (child as usize) > node && (child as usize) < nodes;
            if !after(l) || !after(r) || self.feature[node] as usize >= width {
                return Err(format!("tree node {node} points outside its tree"));
            }
        }
        // Bounded, so that no sum over the trees can overflow.
        if !self.value.iter().all(|v| v.is_finite() && v.abs() <= 1e100) {
            return Err("a tree holds a value that is not a finite number".into());
        }
        Ok(())
    }
}

fn contains(set: &[u64], bin: u16) -> bool {
    set.get(bin as usize / 64)
        .is_some_and(|word| word >> (bin % 64) & 1 == 1)
}

/// What a tree is grown with.
pub(crate) struct Growth<'a> {
    pub features: &'a Features,
    pub gradients: &'a [f64],
    pub hessians: &'a [f64],
    pub max_leaves: usize,
    pub min_leaf: usize,
    pub l2: f64,
}

/// A grown tree before its leaf values are set: the rows of each leaf.
pub(crate) struct Grown {
    pub tree: Tree,
    /// (leaf node, its training rows).
    pub leaves: Vec<(usize, Vec<u32>)>,
    /// Gain of the splits, per feature.
    pub gain: Vec<f64>,
}

#[derive(Clone, Copy, Default)]
struct Bin {
    gradient: f64,
    hessian: f64,
    count: u32,
}

/// Per feature, per bin.
type Histogram = Vec<Vec<Bin>>;

struct Candidate {
    gain: f64,
    feature: usize,
    left: Vec<u64>,
}

struct Open {
    node: usize,
    rows: Vec<u32>,
    histogram: Histogram,
    best: Option<Candidate>,
}

/// Smooths a categorical bin's mean gradient when bins are ordered for a
/// split, so that a bin of a few rows does not sort to an extreme (LightGBM's
/// `cat_smooth`).
const CATEGORY_SMOOTHING: f64 = 10.0;
/// Rows a category needs in a node to be sent left on its own
/// (scikit-learn's `MIN_CAT_SUPPORT`).
const MIN_CATEGORY_ROWS: u32 = 10;
/// Categories one split sends left at most (LightGBM's `max_cat_threshold`).
const MAX_LEFT_CATEGORIES: usize = 32;

impl Growth<'_> {
    pub fn grow(&self, rows: Vec<u32>) -> Grown {
        let width = self.features.kinds.len();
        let mut tree = Tree {
            feature: vec![0],
            children: vec![[0, 0]],
            left: vec![Vec::new()],
            value: vec![0.0],
        };
        let mut gain = vec![0.0; width];
        let histogram = self.histogram(&rows);
        let best = self.best_split(&histogram);
        let mut open = vec![Open {
            node: 0,
            rows,
            histogram,
            best,
        }];
        while open.len() < self.max_leaves {
            // The leaf with the largest gain; on a tie the first in `open`
            // (whose order depends only on the splits made, so it is deterministic).
            let Some(pick) = open
                .iter()
                .enumerate()
                .filter_map(|(i, leaf)| Some((i, leaf.best.as_ref()?.gain)))
                .fold(None, |best: Option<(usize, f64)>, (i, g)| match best {
                    Some((_, b)) if b >= g => best,
                    _ => Some((i, g)),
                })
                .map(|(i, _)| i)
            else {
                break;
            };
            let parent = open.swap_remove(pick);
            let candidate = parent.best.expect("picked leaves have a split");
            gain[candidate.feature] += candidate.gain;
            let column = &self.features.columns[candidate.feature];
            let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = parent
                .rows
                .iter()
                .partition(|&&row| contains(&candidate.left, column[row as usize]));
            let (left_node, right_node) = (tree.children.len(), tree.children.len() + 1);
            tree.children[parent.node] = [left_node as u32, right_node as u32];
            tree.feature[parent.node] = candidate.feature as u32;
            tree.left[parent.node] = candidate.left;
            for _ in 0..2 {
                tree.children.push([0, 0]);
                tree.feature.push(0);
                tree.left.push(Vec::new());
                tree.value.push(0.0);
            }
            let left_is_smaller = left_rows.len() <= right_rows.len();
            let small = if left_is_smaller {
                &left_rows
            } else {
                &right_rows
            };
            let small_histogram = self.histogram(small);
            let large_histogram = subtract(parent.histogram, &small_histogram);
            let (left_histogram, right_histogram) = if left_is_smaller {
                (small_histogram, large_histogram)
            } else {
                (large_histogram, small_histogram)
            };
            for (node, rows, histogram) in [
                (left_node, left_rows, left_histogram),
                (right_node, right_rows, right_histogram),
            ] {
                let best = self.best_split(&histogram);
                open.push(Open {
                    node,
                    rows,
                    histogram,
                    best,
                });
            }
        }
        let mut leaves: Vec<(usize, Vec<u32>)> = open
            .into_iter()
            .map(|leaf| (leaf.node, leaf.rows))
            .collect();
        leaves.sort_by_key(|(node, _)| *node);
        Grown { tree, leaves, gain }
    }

    fn histogram(&self, rows: &[u32]) -> Histogram {
        self.features
            .columns
            .iter()
            .zip(&self.features.bins)
            .map(|(column, &bins)| {
                let mut histogram = vec![Bin::default(); bins as usize];
                for &row in rows {
                    let row = row as usize;
                    let bin = &mut histogram[column[row] as usize];
                    bin.gradient += self.gradients[row];
                    bin.hessian += self.hessians[row];
                    bin.count += 1;
                }
                histogram
            })
            .collect()
    }

    fn score(&self, gradient: f64, hessian: f64) -> f64 {
        gradient * gradient / (hessian + self.l2)
    }

    fn best_split(&self, histogram: &Histogram) -> Option<Candidate> {
        let mut best: Option<Candidate> = None;
        for (feature, bins) in histogram.iter().enumerate() {
            let total = bins.iter().fold(Bin::default(), |acc, &b| add(acc, b));
            let parent = self.score(total.gradient, total.hessian);
            let mut consider = |left_bins: &[usize]| {
                let mut left = Bin::default();
                for (cut, &b) in left_bins.iter().enumerate() {
                    left = add(left, bins[b]);
                    let right_count = total.count - left.count;
                    if (left.count as usize) < self.min_leaf
                        || (right_count as usize) < self.min_leaf
                    {
                        continue;
                    }
                    let gain = self.score(left.gradient, left.hessian)
                        + self.score(total.gradient - left.gradient, total.hessian - left.hessian)
                        - parent;
                    if gain > 1e-9 && best.as_ref().is_none_or(|c| gain > c.gain) {
                        let mut set = vec![0u64; bins.len().div_ceil(64)];
                        for &b in &left_bins[..=cut] {
                            set[b / 64] |= 1 << (b % 64);
                        }
                        best = Some(Candidate {
                            gain,
                            feature,
                            left: set,
                        });
                    }
                }
            };
            match self.features.kinds[feature] {
                Kind::Ordered => {
                    let used: Vec<usize> = (0..bins.len()).filter(|&b| bins[b].count > 0).collect();
                    if let Some((_, prefix)) = used.split_last() {
                        consider(prefix);
                    }
                }
                Kind::Categorical => {
                    // Categories of too few rows take no side of their own:
                    // they stay right with whatever the split leaves there.
                    let mut used: Vec<usize> = (0..bins.len())
                        .filter(|&b| bins[b].count >= MIN_CATEGORY_ROWS)
                        .collect();
                    let mean = |b: usize| bins[b].gradient / (bins[b].hessian + CATEGORY_SMOOTHING);
                    used.sort_by(|&a, &b| mean(a).total_cmp(&mean(b)).then(a.cmp(&b)));
                    // At most half the categories (and no more than
                    // MAX_LEFT_CATEGORIES) go left, from either end of the order.
                    let most = MAX_LEFT_CATEGORIES.min(used.len().div_ceil(2));
                    consider(&used[..most]);
                    used.reverse();
                    consider(&used[..most]);
                }
            }
        }
        best
    }
}

fn add(a: Bin, b: Bin) -> Bin {
    Bin {
        gradient: a.gradient + b.gradient,
        hessian: a.hessian + b.hessian,
        count: a.count + b.count,
    }
}

fn subtract(mut parent: Histogram, child: &Histogram) -> Histogram {
    for (bins, child_bins) in parent.iter_mut().zip(child) {
        for (bin, c) in bins.iter_mut().zip(child_bins) {
            bin.gradient -= c.gradient;
            bin.hessian -= c.hessian;
            bin.count -= c.count;
        }
    }
    parent
}

/// Sets each split node's value to the mean of its leaves' values weighted by
/// their training rows; children come after parents, so one backward pass
/// does it.
pub(crate) fn fill_split_values(tree: &mut Tree, rows_per_node: &mut [f64]) {
    for node in (0..tree.children.len()).rev() {
        let [l, r] = tree.children[node];
        if [l, r] == [0, 0] {
            continue;
        }
        let (l, r) = (l as usize, r as usize);
        let rows = rows_per_node[l] + rows_per_node[r];
        rows_per_node[node] = rows;
        tree.value[node] = if rows > 0.0 {
            (tree.value[l] * rows_per_node[l] + tree.value[r] * rows_per_node[r]) / rows
        } else {
            0.0
        };
    }
}
