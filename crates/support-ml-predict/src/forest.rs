//! Resolution time: bagged decision trees with leaf medians and quantiles.
//!
//! Resolution times are heavy-tailed (median about a day, p90 about two
//! weeks), so the estimate that minimizes the absolute error is a median, not
//! a mean. Each tree is a linfa-trees classifier grown on log(1 + minutes)
//! cut into quantile classes, over target-encoded features; the tree only
//! decides how tickets are grouped. Each leaf then keeps the median and the
//! interval quantiles of the minutes of the tickets that reached it, and
//! every node the median log time, from which the effect of each split on a
//! prediction is read (the features that moved it).
//!
//! Leaf quantiles of a few tickets are too narrow, so the interval is
//! calibrated on the training rows each tree did not see (out of bag), as in
//! conformalized quantile regression: it is widened (in log time) by the
//! amount that makes the out-of-bag intervals hold the nominal share of true
//! times.
//!
//! The bootstrap samples are seeded, but two trainings on the same data are
//! not bit-identical: linfa-trees counts classes in a `HashMap`, whose
//! per-process random order decides between equally good splits.

use linfa::prelude::*;
use linfa_trees::{DecisionTree, SplitQuality, TreeNode};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{ForestSettings, TrainSettings};
use crate::encode::TargetEncoding;
use crate::schema::Inputs;
use crate::stats::{quantile, round_to};
use crate::TrainError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// Category values as the smoothed mean log(1 + minutes) of their tickets.
    pub encoding: TargetEncoding,
    /// Lower and upper quantile the leaves keep (the prediction interval).
    pub interval: [f64; 2],
    /// How far (in log(1 + minutes)) the leaves' interval is widened so that
    /// it holds `interval[1] - interval[0]` of the out-of-bag true times.
    pub widen: f64,
    pub trees: Vec<Tree>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The root first.
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "CompactNode")]
pub enum Node {
    /// Rows with feature `f` at most `t` go to node `l`, the others to `r`;
    /// `v` is the median log(1 + minutes) of the training rows reaching it.
    Split {
        f: usize,
        t: f64,
        l: u32,
        r: u32,
        v: f64,
    },
    /// `q`: the low quantile, median and high quantile of the minutes of the
    /// training rows in the leaf; `w`: their share within a factor 2 of the median.
    Leaf { v: f64, q: [f64; 3], w: f64 },
}

/// A node as the model file stores it, a JSON array: a model holds tens of
/// thousands. `[f, t, l, r, v]` is a split, `[v, [low, median, high], w]` a leaf.
#[derive(Serialize)]
#[serde(untagged)]
enum CompactNode {
    Split(usize, f64, u32, u32, f64),
    Leaf(f64, [f64; 3], f64),
}

impl From<Node> for CompactNode {
    fn from(node: Node) -> Self {
        match node {
            Node::Split { f, t, l, r, v } => CompactNode::Split(f, t, l, r, v),
            Node::Leaf { v, q, w } => CompactNode::Leaf(v, q, w),
        }
    }
}

/// Reads the compact form element by element: the second element (a
/// threshold, or the quantiles) tells a split from a leaf. Much faster than
/// an untagged enum, which buffers every node; loading is most of the time
/// a single-ticket run takes.
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;

        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Second {
            Threshold(f64),
            Quantiles([f64; 3]),
        }

        impl<'de> serde::de::Visitor<'de> for NodeVisitor {
            type Value = Node;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tree node: [feature, threshold, left, right, value] or [value, [low, median, high], share]")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let first: f64 = element(&mut seq, 0)?;
                Ok(match element(&mut seq, 1)? {
                    Second::Threshold(t) => Node::Split {
                        f: first as usize,
                        t,
                        l: element(&mut seq, 2)?,
                        r: element(&mut seq, 3)?,
                        v: element(&mut seq, 4)?,
                    },
                    Second::Quantiles(q) => Node::Leaf {
                        v: first,
                        q,
                        w: element(&mut seq, 2)?,
                    },
                })
            }
        }

        fn element<'de, T: Deserialize<'de>, A: serde::de::SeqAccess<'de>>(
            seq: &mut A,
            index: usize,
        ) -> Result<T, A::Error> {
            seq.next_element()?.ok_or_else(|| {
                serde::de::Error::invalid_length(index, &"a tree node of 3 or 5 elements")
            })
        }

        deserializer.deserialize_seq(NodeVisitor)
    }
}

impl Tree {
    /// The quantiles and within-factor-2 share of the leaf `feature` leads to.
    fn leaf(&self, feature: impl Fn(usize) -> f64) -> ([f64; 3], f64) {
        let mut at = 0;
        loop {
            match &self.nodes[at] {
                Node::Split { f, t, l, r, .. } => {
                    at = if feature(*f) <= *t { *l } else { *r } as usize
                }
                Node::Leaf { q, w, .. } => return (*q, *w),
            }
        }
    }
}

fn median_of(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

impl Node {
    fn value(&self) -> f64 {
        match self {
            Node::Split { v, .. } | Node::Leaf { v, .. } => *v,
        }
    }
}

/// A forest's estimate for one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestEstimate {
    /// The median over the trees of their leaf medians.
    pub minutes: f64,
    pub low: f64,
    pub high: f64,
    /// Share of similar training tickets within a factor 2 of the estimate.
    pub within_factor_2: f64,
    /// Per feature: the change in log(1 + minutes) its splits made, averaged
    /// over the trees (exp of it is the factor on the time).
    pub effects: Vec<f64>,
}

impl Forest {
    /// Grows the forest on the rows' inputs and resolution minutes. Calls
    /// `tree_done` as each tree is finished.
    pub fn fit(
        rows: &[&Inputs],
        minutes: &[f64],
        width: usize,
        settings: &TrainSettings,
        tree_done: &(dyn Fn() + Sync),
    ) -> Result<Forest, TrainError> {
        let logs: Vec<f64> = minutes.iter().map(|m| m.ln_1p()).collect();
        let encoding = TargetEncoding::fit(rows, &logs, width, settings.smoothing);
        let x = TargetEncoding::out_of_fold(rows, &logs, width, settings.smoothing, settings.folds);
        let forest = &settings.forest;
        let classes = quantile_classes(&logs, forest.bins.max(2));
        let grown = (0..forest.trees.max(1))
            .into_par_iter()
            .map(|b| {
                let seed = settings.seed.wrapping_add(b as u64);
                let tree = grow(&x, &classes, minutes, forest, seed);
                tree_done();
                tree
            })
            .collect::<Result<Vec<(Tree, Vec<bool>)>, TrainError>>()?;
        let (trees, in_bag): (Vec<Tree>, Vec<Vec<bool>>) = grown.into_iter().unzip();
        let mut forest = Forest {
            encoding,
            interval: forest.interval,
            widen: 0.0,
            trees,
        };
        forest.widen = round_to(forest.out_of_bag_widening(&x, minutes, &in_bag), 4);
        Ok(forest)
    }

    /// The widening that makes the out-of-bag intervals of the training rows
    /// hold the nominal share of their true times.
    fn out_of_bag_widening(&self, x: &Array2<f64>, minutes: &[f64], in_bag: &[Vec<bool>]) -> f64 {
        let mut scores: Vec<f64> = x
            .rows()
            .into_iter()
            .zip(minutes)
            .enumerate()
            .filter_map(|(i, (row, &m))| {
                let leaves: Vec<[f64; 3]> = self
                    .trees
                    .iter()
                    .zip(in_bag)
                    .filter(|(_, bag)| !bag[i])
                    .map(|(tree, _)| tree.leaf(|f| row[f]).0)
                    .collect();
                if leaves.is_empty() {
                    return None;
                }
                let (low, high) = (
                    median_of(leaves.iter().map(|q| q[0])),
                    median_of(leaves.iter().map(|q| q[2])),
                );
                let y = m.ln_1p();
                Some((low.ln_1p() - y).max(y - high.ln_1p()))
            })
            .collect();
        scores.sort_by(f64::total_cmp);
        let level = self.interval[1] - self.interval[0];
        let widen = quantile(&scores, level);
        if widen.is_finite() {
            widen
        } else {
            0.0
        }
    }

    pub fn estimate(&self, inputs: &Inputs) -> ForestEstimate {
        let x = self.encoding.encode(inputs);
        let mut effects = vec![0.0; x.len()];
        let mut lows = Vec::with_capacity(self.trees.len());
        let mut medians = Vec::with_capacity(self.trees.len());
        let mut highs = Vec::with_capacity(self.trees.len());
        let mut within = 0.0;
        for tree in &self.trees {
            let mut at = 0;
            while let Node::Split { f, t, l, r, v } = &tree.nodes[at] {
                let next = if x[*f] <= *t { *l } else { *r } as usize;
                effects[*f] += tree.nodes[next].value() - v;
                at = next;
            }
            if let Node::Leaf { q, w, .. } = &tree.nodes[at] {
                lows.push(q[0]);
                medians.push(q[1]);
                highs.push(q[2]);
                within += w;
            }
        }
        let n = self.trees.len() as f64;
        for effect in &mut effects {
            *effect /= n;
        }
        let widened = |minutes: f64, by: f64| ((1.0 + minutes) * by.exp() - 1.0).max(0.0);
        ForestEstimate {
            minutes: median_of(medians.into_iter()),
            low: widened(median_of(lows.into_iter()), -self.widen),
            high: widened(median_of(highs.into_iter()), self.widen),
            within_factor_2: within / n,
            effects,
        }
    }
}

/// Class of each value: how many of the `bins - 1` inner quantiles lie below it.
fn quantile_classes(values: &[f64], bins: usize) -> Vec<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let edges: Vec<f64> = (1..bins)
        .map(|k| quantile(&sorted, k as f64 / bins as f64))
        .collect();
    values
        .iter()
        .map(|v| edges.partition_point(|edge| edge < v))
        .collect()
}

/// One tree on a bootstrap sample of the rows, and which rows were in it.
fn grow(
    x: &Array2<f64>,
    classes: &[usize],
    minutes: &[f64],
    settings: &ForestSettings,
    seed: u64,
) -> Result<(Tree, Vec<bool>), TrainError> {
    let n = x.nrows();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let sample: Vec<usize> = (0..n)
        .map(|_| (rng.next_u64() % n as u64) as usize)
        .collect();
    let targets: Array1<usize> = sample.iter().map(|&i| classes[i]).collect();
    let dataset = Dataset::new(x.select(Axis(0), &sample), targets);
    let min_leaf = settings.min_leaf.max(1) as f32;
    let fitted = DecisionTree::params()
        .split_quality(SplitQuality::Entropy)
        .min_weight_leaf(min_leaf)
        .min_weight_split(2.0 * min_leaf)
        .fit(&dataset)
        .map_err(|e| TrainError::Fit(format!("decision tree: {e}")))?;
    let mut nodes = Vec::new();
    convert(fitted.root_node(), &mut nodes);
    let sample_minutes: Vec<f64> = sample.iter().map(|&i| minutes[i]).collect();
    fill_statistics(
        &mut nodes,
        dataset.records().view(),
        &sample_minutes,
        settings.interval,
    );
    let mut in_bag = vec![false; n];
    for &i in &sample {
        in_bag[i] = true;
    }
    Ok((Tree { nodes }, in_bag))
}

/// Copies linfa's tree into ours (statistics filled later); returns the node's index.
fn convert(node: &TreeNode<f64, usize>, nodes: &mut Vec<Node>) -> u32 {
    let index = nodes.len();
    let children = node.children();
    match (node.is_leaf(), children[0], children[1]) {
        (false, Some(left), Some(right)) => {
            let (f, t, _) = node.split();
            // Rounded before any row is routed, so training and prediction agree.
            nodes.push(Node::Split {
                f,
                t: round_to(t, 4),
                l: 0,
                r: 0,
                v: 0.0,
            });
            let l = convert(left, nodes);
            let r = convert(right, nodes);
            if let Node::Split {
                l: left, r: right, ..
            } = &mut nodes[index]
            {
                *left = l;
                *right = r;
            }
        }
        _ => nodes.push(Node::Leaf {
            v: 0.0,
            q: [0.0; 3],
            w: 0.0,
        }),
    }
    index as u32
}

/// Routes the training rows through the tree and stores, per node, the
/// median log time of the rows reaching it, and per leaf the quantiles.
fn fill_statistics(nodes: &mut [Node], x: ArrayView2<f64>, minutes: &[f64], interval: [f64; 2]) {
    let mut reached: Vec<Vec<f64>> = vec![Vec::new(); nodes.len()];
    for (row, &m) in x.rows().into_iter().zip(minutes) {
        let mut at = 0;
        loop {
            reached[at].push(m);
            match nodes[at] {
                Node::Split { f, t, l, r, .. } => at = if row[f] <= t { l } else { r } as usize,
                Node::Leaf { .. } => break,
            }
        }
    }
    // A node no row reaches (a rounded threshold can empty one) takes its
    // parent's rows; parents come before their children.
    let mut parent = vec![0; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if let Node::Split { l, r, .. } = node {
            parent[*l as usize] = i;
            parent[*r as usize] = i;
        }
    }
    for i in 1..nodes.len() {
        if reached[i].is_empty() {
            reached[i] = reached[parent[i]].clone();
        }
    }
    for (node, mut values) in nodes.iter_mut().zip(reached) {
        values.sort_by(f64::total_cmp);
        let median = quantile(&values, 0.5);
        let log_median = round_to(median.ln_1p(), 4);
        match node {
            Node::Split { v, .. } => *v = log_median,
            Node::Leaf { v, q, w } => {
                *v = log_median;
                *q = [
                    round_to(quantile(&values, interval[0]), 1),
                    round_to(median, 1),
                    round_to(quantile(&values, interval[1]), 1),
                ];
                let near = values
                    .iter()
                    .filter(|&&m| {
                        let ratio = (1.0 + m) / (1.0 + median);
                        (0.5..=2.0).contains(&ratio)
                    })
                    .count();
                *w = round_to(near as f64 / values.len().max(1) as f64, 3);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(values: &[&str]) -> Inputs {
        Inputs(values.iter().map(|s| s.to_string()).collect())
    }

    fn settings(seed: u64) -> TrainSettings {
        let mut settings = crate::MlPredictConfig::default().training;
        settings.seed = seed;
        settings.forest = ForestSettings {
            trees: 5,
            min_leaf: 5,
            bins: 4,
            interval: [0.1, 0.9],
        };
        settings
    }

    /// Category `slow` takes ten times as long as `fast`; the channel is noise.
    fn data() -> (Vec<Inputs>, Vec<f64>) {
        let mut rows = Vec::new();
        let mut minutes = Vec::new();
        for i in 0..200 {
            let slow = i % 2 == 0;
            let channel = if i % 3 == 0 { "email" } else { "chat" };
            rows.push(inputs(&[if slow { "slow" } else { "fast" }, channel]));
            let spread = 0.8 + 0.4 * ((i * 7 % 11) as f64 / 10.0);
            minutes.push(if slow { 1000.0 } else { 100.0 } * spread);
        }
        (rows, minutes)
    }

    #[test]
    fn learns_the_median_per_group_and_says_which_feature_moved_it() {
        let (rows, minutes) = data();
        let refs: Vec<&Inputs> = rows.iter().collect();
        let forest = Forest::fit(&refs, &minutes, 2, &settings(7), &|| {}).unwrap();
        assert_eq!(forest.trees.len(), 5);
        let slow = forest.estimate(&inputs(&["slow", "chat"]));
        let fast = forest.estimate(&inputs(&["fast", "chat"]));
        assert!((800.0..=1200.0).contains(&slow.minutes), "{slow:?}");
        assert!((80.0..=120.0).contains(&fast.minutes), "{fast:?}");
        assert!(slow.low <= slow.minutes && slow.minutes <= slow.high);
        assert!(slow.effects[0] > 0.0 && fast.effects[0] < 0.0);
        assert!(slow.effects[0].abs() > slow.effects[1].abs());
        assert!(slow.within_factor_2 > 0.9);
        // A value never seen gets the prior encoding, not a crash.
        let unseen = forest.estimate(&inputs(&["brand new", "fax"]));
        assert!(unseen.minutes > 0.0);
    }

    #[test]
    fn the_compact_file_form_reads_back() {
        let (rows, minutes) = data();
        let refs: Vec<&Inputs> = rows.iter().collect();
        let forest = Forest::fit(&refs, &minutes, 2, &settings(3), &|| {}).unwrap();
        let json = serde_json::to_string(&forest).unwrap();
        assert!(
            json.contains("\"nodes\":[["),
            "nodes are arrays: {json:.200}"
        );
        let read: Forest = serde_json::from_str(&json).unwrap();
        assert_eq!(read, forest);
        let error = serde_json::from_str::<Node>("[1.0, 2.0]")
            .unwrap_err()
            .to_string();
        assert!(error.contains("3 or 5 elements"), "{error}");
    }

    #[test]
    fn classes_follow_quantiles() {
        let classes = quantile_classes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 4);
        assert_eq!(classes, [0, 0, 1, 1, 2, 2, 3, 3]);
    }
}
