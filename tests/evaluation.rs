//! The set evaluation (`deep_inside::evaluation`): its statistics against hand computations,
//! and its table against the metrics called directly on maps computed apart.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::Error;
use deep_inside::evaluation::{
    Better, Evaluator, Method, Metric, Settings, quantile, ranks, summarise,
};
use deep_inside::lrp::{Rules, relevance};
use deep_inside::metrics::complexity::{self, EFFECTIVE_EPSILON};
use deep_inside::metrics::faithfulness as faith;
use deep_inside::metrics::localisation::{self, ink};
use deep_inside::metrics::{Explain, Explainer, axiomatic};
use deep_inside::saliency::{Method as Backprop, signed};

/// Held-out images `picks`, one after another, and their labels.
fn images(digits: &deep_inside::data::Digits, picks: &[usize]) -> (Vec<f32>, Vec<usize>) {
    let pixels = picks.iter().flat_map(|&i| digits.image(i)).collect();
    let classes = picks
        .iter()
        .map(|&i| usize::from(digits.labels[i]))
        .collect();
    (pixels, classes)
}

/// The argument a failure names, if it is a bad argument.
fn argument<T>(r: Result<T, Error>) -> Option<String> {
    match r {
        Err(Error::Argument { name, .. }) => Some(name),
        _ => None,
    }
}

#[test]
fn quartiles_and_bootstrap_by_hand() {
    // NumPy: np.percentile([1, 2, 3, 4, 5], [0, 25, 50, 75, 100]) = 1, 2, 3, 4, 5;
    // np.percentile([1, 2, 3, 4], 25) = 1.75.
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    let s = summarise(&[5.0, 1.0, f64::NAN, 3.0, 2.0, 4.0], 1000, 7);
    assert_eq!(s.n, 5, "the NaN is left out");
    assert_eq!(
        (s.mean, s.min, s.q1, s.median, s.q3, s.max),
        (3.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    );
    assert!(s.low < s.mean && s.mean < s.high && s.low >= 1.0 && s.high <= 5.0);
    // A constant sample has a point interval.
    let c = summarise(&[2.5; 9], 200, 1);
    assert_eq!((c.low, c.high), (2.5, 2.5));
    // For 0..400 the mean's standard error is σ/√n = 115.47/20 = 5.77: the percentile
    // interval is about ±1.96·5.77 = ±11.3 around 199.5.
    let v: Vec<f64> = (0..400).map(f64::from).collect();
    let s = summarise(&v, 2000, 3);
    let half = (s.high - s.low) / 2.0;
    assert!((half - 11.3).abs() < 1.5, "half-width {half}");
    assert!((s.low + s.high) / 2.0 - 199.5 < 1.5);
    // The same seed, the same interval.
    assert_eq!(summarise(&v, 2000, 3), s);
}

#[test]
fn ranks_share_ties_and_put_missing_last() {
    let means = [0.5, 0.9, 0.5, f64::NAN];
    assert_eq!(ranks(&means, Better::Higher), vec![2.5, 1.0, 2.5, 4.0]);
    assert_eq!(ranks(&means, Better::Lower), vec![1.5, 3.0, 1.5, 4.0]);
}

#[test]
fn catalogue_is_complete_and_parses() {
    for m in Metric::ALL {
        assert_eq!(Metric::parse(m.name()).unwrap(), m);
        assert!(!m.about().meaning.is_empty());
    }
    for m in Method::ALL {
        assert_eq!(Method::parse(m.name()).unwrap(), m);
    }
    let costly: Vec<_> = Metric::ALL
        .iter()
        .filter(|m| m.about().costly)
        .map(|m| m.name())
        .collect();
    assert_eq!(
        costly,
        [
            "maxSensitivity",
            "avgSensitivity",
            "localLipschitzEstimate",
            "efficientMprt"
        ]
    );
    assert_eq!(Metric::cheap().len(), 13);
    assert_eq!(
        argument(Metric::parse("accuracy")).as_deref(),
        Some("metrics")
    );
}

/// The table's values are the metrics of the methods' own maps, called directly.
#[test]
fn table_equals_the_metrics_on_maps_computed_apart() {
    let device = cpu();
    let model = model(&device);
    let net = &model.network;
    let digits = heldout();
    let rules = Rules::preset("recommended", &model).unwrap();
    let methods = [
        Method::Gradient,
        Method::GradientInput,
        Method::Lrp,
        Method::Random,
    ];
    let metrics = [
        Metric::Sparseness,
        Metric::Complexity,
        Metric::EffectiveComplexity,
        Metric::PixelFlipping,
        Metric::RegionPerturbation,
        Metric::PointingGame,
        Metric::RelevanceRankAccuracy,
        Metric::Completeness,
        Metric::InputInvariance,
        Metric::FaithfulnessCorrelation,
    ];
    let settings = Settings::default();
    let evaluator = Evaluator::new(&model, rules.clone(), &methods, &metrics, settings).unwrap();
    // Three digits of different classes: the maps are batched per class.
    let picks = [0usize, 150, 400];
    let (pixels, classes) = images(&digits, &picks);
    let table = evaluator.evaluate(&pixels, &classes, 0).unwrap();
    assert_eq!(table.images(), 3);
    for (i, &pick) in picks.iter().enumerate() {
        let (image, class) = (digits.image(pick), classes[i]);
        let x = model.image(&image, &device).unwrap();
        let acts = net.trace(x.clone());
        let gradient = values(signed(net, &acts, class, Backprop::Gradient).unwrap());
        let gxi: Vec<f32> = gradient.iter().zip(&image).map(|(g, x)| g * x).collect();
        let lrp = values(relevance(net, x, class, &rules).unwrap().pixels);
        for (m, map) in [(0, &gradient), (1, &gxi), (2, &lrp)] {
            let at = |k: usize| table.values[(i * methods.len() + m) * metrics.len() + k];
            let close = |k: usize, want: f64| {
                let got = at(k);
                assert!(
                    (got - want).abs() <= 1e-5 * want.abs().max(1e-3),
                    "image {pick}, method {:?}, metric {:?}: {got} vs {want}",
                    methods[m],
                    metrics[k]
                );
            };
            close(0, complexity::sparseness(map).unwrap());
            close(1, complexity::complexity(map).unwrap());
            close(
                2,
                complexity::effective_complexity(map, EFFECTIVE_EPSILON).unwrap() as f64,
            );
            let pf = faith::pixel_flipping(net, &image, map, class, 28)
                .unwrap()
                .auc;
            close(3, f64::from(pf));
            let rp = faith::region_perturbation(net, &image, map, class, 7, 16)
                .unwrap()
                .auc;
            close(4, f64::from(rp));
            let hit = localisation::pointing_game(map, &ink(&image)).unwrap();
            close(5, f64::from(u8::from(hit)));
            close(
                6,
                localisation::relevance_rank_accuracy(map, &ink(&image)).unwrap(),
            );
            let c = axiomatic::completeness(net, &image, map, class).unwrap();
            close(7, c.relative_error);
            let explainer = [
                Explainer::Backprop(Backprop::Gradient),
                Explainer::GradientInput,
                Explainer::Lrp(rules.clone()),
            ];
            let invariant = axiomatic::input_invariance(
                net,
                &image,
                map,
                class,
                &explainer[m],
                axiomatic::SHIFT,
            )
            .unwrap();
            close(8, f64::from(u8::from(invariant)));
            // One set of removals serves every map of the image.
            let seed = evaluator.seed(i as u64);
            let fc =
                faith::faithfulness_correlation(net, &image, map, class, 100, 224, seed).unwrap();
            close(9, fc);
        }
    }
    // Chunks give the values of one go: per-image draws are seeded by the image's index.
    let second = evaluator
        .evaluate(&pixels[784..], &classes[1..], 1)
        .unwrap();
    let per_image = methods.len() * metrics.len();
    assert_eq!(second.values, table.values[per_image..]);
}

/// The random control: the same image gets the same map, and no method the network explains
/// localises as badly.
#[test]
fn random_control_is_reproducible_and_localises_by_chance() {
    let device = cpu();
    let model = model(&device);
    let digits = heldout();
    let image = digits.image(3);
    let x = model.image(&image, &device).unwrap();
    let random = Explainer::Random(5);
    let a = values(random.explain(&model.network, x.clone(), 1).unwrap());
    let b = values(random.explain(&model.network, x, 7).unwrap());
    assert_eq!(a, b, "the map depends on the image only");
    assert!(a.iter().all(|v| (0.0..1.0).contains(v)));

    let rules = Rules::preset("recommended", &model).unwrap();
    let methods = [Method::Lrp, Method::Random];
    let metrics = [Metric::RelevanceRankAccuracy];
    let evaluator = Evaluator::new(&model, rules, &methods, &metrics, Settings::default()).unwrap();
    let picks: Vec<usize> = (0..20).map(|i| i * 50).collect();
    let (pixels, classes) = images(&digits, &picks);
    let table = evaluator.evaluate(&pixels, &classes, 0).unwrap();
    let s = table.summaries(0);
    // A random map's top-K share on the ink is about the ink's share of the image.
    let ink_share = pixels.iter().filter(|&&v| v > 0.5).count() as f64 / pixels.len() as f64;
    assert!(
        (s[1].mean - ink_share).abs() < 0.05,
        "random {} vs ink share {ink_share}",
        s[1].mean
    );
    assert!(
        s[0].mean > s[1].mean + 0.2,
        "LRP {} vs random {}",
        s[0].mean,
        s[1].mean
    );
    let (rank, _) = table.ranks(&s);
    assert_eq!(rank, vec![1.0, 2.0]);
}

#[test]
fn bad_choices_and_inputs_are_named() {
    let device = cpu();
    let model = model(&device);
    let rules = Rules::preset("recommended", &model).unwrap();
    let s = Settings::default();
    assert_eq!(
        argument(Evaluator::new(
            &model,
            rules.clone(),
            &[],
            &[Metric::Sparseness],
            s
        ))
        .as_deref(),
        Some("methods")
    );
    assert_eq!(
        argument(Evaluator::new(
            &model,
            rules.clone(),
            &[Method::Gradient],
            &[Metric::Sparseness, Metric::Sparseness],
            s
        ))
        .as_deref(),
        Some("metrics")
    );
    let e = Evaluator::new(&model, rules, &[Method::Gradient], &[Metric::Sparseness], s).unwrap();
    assert_eq!(
        argument(e.evaluate(&[0.0; 100], &[1], 0)).as_deref(),
        Some("pixels")
    );
    assert_eq!(
        argument(e.evaluate(&[0.0; 784], &[10], 0)).as_deref(),
        Some("classes")
    );
    assert_eq!(
        argument(e.evaluate(&[f32::NAN; 784], &[1], 0)).as_deref(),
        Some("pixels[0]")
    );
}

/// Max- and avg-sensitivity share one set of noisy copies per map: each equals its metric called
/// alone with the same noise.
#[test]
fn sensitivities_share_their_copies() {
    use deep_inside::metrics::robustness::{self, Noise};
    let device = cpu();
    let model = model(&device);
    let digits = heldout();
    let rules = Rules::preset("recommended", &model).unwrap();
    let metrics = [Metric::MaxSensitivity, Metric::AvgSensitivity];
    let settings = Settings::default();
    let evaluator = Evaluator::new(&model, rules, &[Method::Gradient], &metrics, settings).unwrap();
    let (pixels, classes) = images(&digits, &[300]);
    let table = evaluator.evaluate(&pixels, &classes, 0).unwrap();
    let net = &model.network;
    let x = model.image(&pixels, &device).unwrap();
    let map = values(signed(net, &net.trace(x), classes[0], Backprop::Gradient).unwrap());
    let noise = Noise {
        seed: evaluator.seed(0),
        ..settings.sensitivity
    };
    let explainer = Explainer::Backprop(Backprop::Gradient);
    let max = robustness::max_sensitivity(net, &pixels, &map, classes[0], &explainer, &noise);
    let avg = robustness::avg_sensitivity(net, &pixels, &map, classes[0], &explainer, &noise);
    assert_eq!(table.values, vec![max.unwrap(), avg.unwrap()]);
}
