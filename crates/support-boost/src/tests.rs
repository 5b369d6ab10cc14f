use super::*;

/// A small deterministic generator for test data.
struct Draw(Xoshiro256PlusPlus);

impl Draw {
    fn new(seed: u64) -> Self {
        Draw(Xoshiro256PlusPlus::seed_from_u64(seed))
    }
    fn below(&mut self, n: u64) -> u16 {
        (self.0.next_u64() % n) as u16
    }
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows with a categorical feature of 8 values whose effect is not in bin
/// order (bins 1, 4 and 6 are slow), an ordered feature with a threshold at
/// bin 5, and a noise feature; targets are the effect plus noise.
fn step_data(n: usize, seed: u64) -> (Features, Vec<f64>) {
    let mut draw = Draw::new(seed);
    let mut columns = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut target = Vec::new();
    for _ in 0..n {
        let (category, level, noise) = (draw.below(8), draw.below(10), draw.below(4));
        let slow = [1, 4, 6].contains(&category);
        let y = if slow { 10.0 } else { 2.0 } + if level >= 5 { 3.0 } else { 0.0 } + draw.unit();
        columns[0].push(category);
        columns[1].push(level);
        columns[2].push(noise);
        target.push(y);
    }
    let features = Features {
        columns,
        bins: vec![8, 10, 4],
        kinds: vec![Kind::Categorical, Kind::Ordered, Kind::Categorical],
    };
    (features, target)
}

fn quantile_model(features: &Features, target: &[f64], alpha: f64, options: &Options) -> Booster {
    fit(features, target, Loss::Quantile { alpha }, options, || {}).unwrap()
}

fn row(features: &Features, i: usize) -> Vec<u16> {
    features.columns.iter().map(|c| c[i]).collect()
}

#[test]
fn the_median_model_finds_a_categorical_split_that_is_not_in_bin_order() {
    let (features, target) = step_data(2000, 1);
    let median = quantile_model(&features, &target, 0.5, &Options::default());
    for (category, level, expected) in [(1, 0, 10.5), (0, 0, 2.5), (6, 7, 13.5), (3, 9, 5.5)] {
        let got = median.output(&[category, level, 0]);
        assert!(
            (got - expected).abs() < 0.3,
            "category {category}, level {level}: {got}"
        );
    }
    // The noise feature decides (almost) nothing.
    assert!(median.importance[2] < 0.02, "{:?}", median.importance);
    assert!(
        median.importance[0] > median.importance[1],
        "{:?}",
        median.importance
    );
}

#[test]
fn quantile_models_bracket_the_targets() {
    let (features, target) = step_data(3000, 2);
    let options = Options::default();
    let low = quantile_model(&features, &target, 0.1, &options);
    let high = quantile_model(&features, &target, 0.9, &options);
    let (fresh, fresh_target) = step_data(2000, 3);
    let inside = (0..fresh_target.len())
        .filter(|&i| {
            let r = row(&fresh, i);
            (low.output(&r)..=high.output(&r)).contains(&fresh_target[i])
        })
        .count() as f64
        / fresh_target.len() as f64;
    assert!(
        (0.72..=0.88).contains(&inside),
        "80% interval holds {inside}"
    );
}

#[test]
fn log_loss_learns_probabilities_that_rank_and_stay_calibrated() {
    let (features, target) = step_data(4000, 4);
    // Slow tickets breach 80% of the time, the others 20%.
    let mut draw = Draw::new(5);
    let breached: Vec<f64> = target
        .iter()
        .map(|&y| f64::from(draw.unit() < if y > 9.0 { 0.8 } else { 0.2 }))
        .collect();
    let model = fit(
        &features,
        &breached,
        Loss::LogLoss,
        &Options::default(),
        || {},
    )
    .unwrap();
    let slow = model.probability(&[4, 0, 1]);
    let fast = model.probability(&[2, 0, 1]);
    assert!(
        (slow - 0.8).abs() < 0.06 && (fast - 0.2).abs() < 0.06,
        "{slow} {fast}"
    );
}

#[test]
fn the_same_data_and_seed_give_the_same_bytes() {
    let (features, target) = step_data(1500, 6);
    let options = Options::default();
    let train = || {
        let model = quantile_model(&features, &target, 0.5, &options);
        serde_json::to_string(&model).unwrap()
    };
    assert_eq!(train(), train());
    let other_seed = Options { seed: 7, ..options };
    let other = quantile_model(&features, &target, 0.5, &other_seed);
    assert_ne!(train(), serde_json::to_string(&other).unwrap());
}

#[test]
fn early_stopping_keeps_the_best_trees_and_says_how_many() {
    let (features, target) = step_data(1500, 8);
    let options = Options {
        max_iterations: 1000,
        learning_rate: 0.5,
        ..Options::default()
    };
    let mut grown = 0;
    let model = fit(
        &features,
        &target,
        Loss::Quantile { alpha: 0.5 },
        &options,
        || grown += 1,
    )
    .unwrap();
    assert!(grown < 1000, "it never stopped");
    assert_eq!(
        grown,
        model.trees.len() + options.patience,
        "kept {} of {grown}",
        model.trees.len()
    );
    assert!(model.validation_loss.unwrap() < 0.3);
    let no_validation = Options {
        validation: 0.0,
        max_iterations: 12,
        ..options
    };
    let all = quantile_model(&features, &target, 0.5, &no_validation);
    assert_eq!((all.trees.len(), all.validation_loss), (12, None));
}

#[test]
fn the_parts_of_an_explanation_add_up_to_the_output() {
    let (features, target) = step_data(1500, 9);
    let model = quantile_model(&features, &target, 0.5, &Options::default());
    for i in 0..50 {
        let r = row(&features, i);
        let (output, parts) = model.explain(&r);
        assert!((output - model.output(&r)).abs() < 1e-9);
        let sum = model.base
            + model.trees.iter().map(|t| t.value[0]).sum::<f64>()
            + parts.iter().sum::<f64>();
        assert!((sum - output).abs() < 1e-9, "{sum} against {output}");
    }
    // A slow category is explained by the category, upwards.
    let (_, parts) = model.explain(&[4, 0, 0]);
    assert!(
        parts[0] > 2.0 && parts[0].abs() > parts[1].abs(),
        "{parts:?}"
    );
}

#[test]
fn inputs_it_cannot_learn_from_are_refused_with_the_row() {
    let (features, mut target) = step_data(100, 10);
    let quantile = Loss::Quantile { alpha: 0.5 };
    assert_eq!(
        fit(&features, &[], quantile, &Options::default(), || {}),
        Err(BoostError::Empty)
    );
    assert!(matches!(
        fit(
            &features,
            &target[..99],
            quantile,
            &Options::default(),
            || {}
        ),
        Err(BoostError::Length {
            feature: 0,
            found: 100,
            expected: 99
        })
    ));
    assert_eq!(
        fit(
            &features,
            &target,
            Loss::LogLoss,
            &Options::default(),
            || {}
        ),
        Err(BoostError::Binary(0))
    );
    assert_eq!(
        fit(
            &features,
            &target,
            Loss::Quantile { alpha: 1.0 },
            &Options::default(),
            || {}
        ),
        Err(BoostError::Alpha(1.0))
    );
    let mut out_of_range = features.clone();
    out_of_range.columns[1][5] = 10;
    assert_eq!(
        fit(&out_of_range, &target, quantile, &Options::default(), || {}),
        Err(BoostError::Bin {
            feature: 1,
            bin: 10,
            bins: 10
        })
    );
    target[3] = f64::NAN;
    assert_eq!(
        fit(&features, &target, quantile, &Options::default(), || {}),
        Err(BoostError::Target(3))
    );
}

#[test]
fn a_single_value_target_gives_a_constant_model() {
    let (features, _) = step_data(200, 11);
    let model = fit(
        &features,
        &[5.0; 200],
        Loss::Quantile { alpha: 0.5 },
        &Options::default(),
        || {},
    )
    .unwrap();
    assert_eq!(model.output(&[3, 3, 3]), 5.0);
    assert!(model.importance.iter().all(|&g| g == 0.0));
}

/// Property: whatever a damaged model file holds, either `check` refuses it
/// or every prediction returns, for any row, even one of the wrong width.
#[test]
fn a_damaged_model_is_refused_or_predicts_without_panicking() {
    let (features, target) = step_data(400, 12);
    let options = Options {
        max_iterations: 5,
        ..Options::default()
    };
    let model = quantile_model(&features, &target, 0.5, &options);
    let json = serde_json::to_vec(&model).unwrap();
    let mut draw = Draw::new(13);
    let mut refused = 0;
    for _ in 0..3000 {
        let mut bytes = json.clone();
        for _ in 0..1 + draw.below(3) {
            let at = draw.below(bytes.len() as u64) as usize;
            bytes[at] = b"0123456789-,[]{}\"e."[draw.below(19) as usize];
        }
        let Ok(damaged) = serde_json::from_slice::<Booster>(&bytes) else {
            continue;
        };
        if damaged.check().is_err() {
            refused += 1;
            continue;
        }
        for r in [vec![0, 0, 0], vec![7, 9, 3], vec![u16::MAX; 5], vec![]] {
            let (output, _) = damaged.explain(&r);
            assert!(output.is_finite(), "{output}");
        }
    }
    assert!(refused > 0, "no damage was ever caught");
}
