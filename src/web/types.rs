//! The TypeScript declarations of the objects the API takes and returns: wasm-bindgen writes
//! the exported functions' signatures, and this section the shapes behind their
//! `unchecked_*_type` names.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A shipped model's name (see `models()`). */
export type ModelName = "mnist" | "mnist-deep" | "fashion";
/** One shipped model (`models()`). */
export interface ModelEntry {
  name: ModelName;
  /** What the page calls it. */
  title: string;
  /** The data set it was trained on: its held-out images and mean image. */
  dataset: "mnist" | "fashion";
  /** Whether this build embeds it; otherwise `provideModel` must hand over its files first. */
  embedded: boolean;
  /** What `provideModel` wants: key → file name in `assets/<name>/` (empty when embedded). */
  files: Record<string, string>;
}
/** The files of `provideModel`, by the keys `ModelEntry.files` lists. */
export interface ModelFiles {
  config: Uint8Array;
  weights: Uint8Array;
  heldout?: Uint8Array;
  mean?: Uint8Array;
}
/** What `loadModel` accepts (`limits()`). */
export interface ModelLimits {
  /** The largest file, in bytes. */
  fileBytes: number;
  parameters: number;
  /** The largest input height and width. */
  side: number;
  channels: number[];
  classes: number;
  layers: number;
}
/** `loadModel`'s options. */
export interface LoadOptions {
  /** The file's format; detected from its bytes when left out. */
  format?: "onnx" | "safetensors";
  /** The reader module (pkg/reader/deep_inside.js): its URL, or a function that imports it
   * (`() => import('…/reader/deep_inside.js')`, which bundlers follow); the one beside this
   * package when left out. */
  reader?: string | (() => Promise<unknown>);
}
/** An entry of the `rules()` and `presets()` catalogues. */
export interface CatalogueEntry {
  name: string;
  description: string;
}
/** One layer of the model (`DeepInside.layers`), as its architecture declares it. */
export interface LayerInfo {
  /** "conv1", "fc2", "pool1", "bn3", ... */
  name: string;
  kind: "normalize" | "conv" | "linear" | "max_pool" | "avg_pool" | "global_avg_pool" | "batch_norm" | "relu" | "flatten" | "dropout";
  /** [channels, height, width]. */
  input: [number, number, number];
  output: [number, number, number];
  parameters: number;
  /** A conv or linear layer: one LRP rule each. */
  weighted: boolean;
  /** The recommended composite's rule for a weighted layer, as `relevance` reads it back (a
   * name from `rules()`, with its parameters: `"gamma(0.25)"`), else null. */
  rule: string | null;
}
/** The result of `predict`. */
export interface Prediction {
  /** softmax(S(x)), one value per class. */
  probabilities: Float32Array;
  /** The class scores S(x) (logits). */
  logits: Float32Array;
  /** argmax of the scores. */
  predicted: number;
}
/** One trained tensor of `weights()`. */
export interface Weight {
  /** `<layer>.weight` or `<layer>.bias`. */
  name: string;
  /** Conv weights `[out, in, kh, kw]`, dense weights `[in, out]`, biases `[out]`. */
  shape: number[];
  values: Float32Array;
}
/** One weighted layer of `relevance`: the relevance entering it. */
export interface LayerRelevance {
  name: string;
  kind: "conv" | "linear";
  width: number;
  height: number;
  channels: number;
  /** Summed over channels: height × width values. */
  map: Float32Array;
  /** Per channel, channel-major: channels × height × width values. */
  perChannel: Float32Array;
  /** Σ R at this layer. */
  total: number;
}
/** The result of `relevance`. */
export interface RelevanceResult {
  class: number;
  /** S_c(x), the relevance LRP starts from. */
  score: number;
  /** One per conv or linear layer, from the input side: the first is the pixels. */
  layers: LayerRelevance[];
}
/** Options of `classModel`; every field is optional. */
export interface ClassModelOptions {
  /** A name of `classModelPresets()` ("readable", the default, or "paper"); the fields below
   * override it. */
  preset?: string;
  objective?: "score" | "log_prob";
  lambda?: number;
  step?: number;
  start?: "noise" | "mean" | "dataset";
  index?: number;
  seed?: number;
  clip?: boolean;
  jitter?: number;
  blurEvery?: number;
  totalVariation?: number;
  /** Random zoom in [1 − scale, 1 + scale] before each gradient (0..=0.5). */
  scale?: number;
  /** Random rotation in [−rotate, rotate] degrees before each gradient (0..=45). */
  rotate?: number;
  /** Step on Fourier coefficients scaled by 1/f^fourier (0..=3; 0: on the pixels). */
  fourier?: number;
  /** Decode through a sigmoid into the pixel box. */
  sigmoid?: boolean;
  /** Adam (learning rate `step`) instead of the plain gradient step. */
  adam?: boolean;
  /** Candidates per image; the best is kept after 20 steps (1..=16). */
  restarts?: number;
  /** Images per unit (1..=16), pushed apart by `diversity`. */
  images?: number;
  /** Weight of the diversity term (0..=1000). */
  diversity?: number;
  /** `unitModel` and `layerAtlas`: a channel's "mean" over its positions (default) or its
   * "centre". */
  at?: "mean" | "centre";
}
/** A class model preset: its name, what it is for, and its settings. */
export interface ClassModelPreset extends CatalogueEntry {
  options: Required<Omit<ClassModelOptions, "preset" | "start" | "index" | "seed" | "at">>;
}
/** Where a class model, unit visualisation or layer atlas stands. */
export interface ClassModelState {
  /** The first image. */
  image: Float32Array;
  objective: number;
  /** The unit's value: S_c (or log p(c)) for a class model, a channel's mean or centre. */
  activation: number;
  /** S_c and p(c) of a class model's first image (NaN for a unit). */
  score: number;
  probability: number;
  steps: number;
  /** Every image of the batch: one per unit (an atlas), `images` per unit. */
  images: Float32Array[];
  objectives: Float32Array;
  activations: Float32Array;
}
/** Labelled held-out images: `pixels` holds `labels.length` images of 784 bytes (value/255). */
export interface HeldoutDigits {
  labels: Uint8Array;
  pixels: Uint8Array;
}
/** What a device's allocator holds (`memoryUsage`). */
export interface MemoryUsage {
  allocations: number;
  bytesInUse: number;
  bytesReserved: number;
}
/** The result of `explain`: signed maps, channels × height × width values each. */
export interface Explanation extends Prediction {
  class: number;
  /** ∂S_c/∂x. */
  gradient: Float32Array;
  deconvnet: Float32Array;
  guided: Float32Array;
  /** ∂S_c/∂x ⊙ x. */
  gradientInput: Float32Array;
}
/** Options of `smoothGrad`; every field is optional. */
export interface SmoothGradOptions {
  /** Noisy copies, 1..=256 (default 32). */
  samples?: number;
  /** Noise standard deviation as a fraction of the pixel range, 0..=1 (default 0.15). */
  sigma?: number;
  seed?: number;
}
/** Options of `integratedGradients`; every field is optional. */
export interface IntegratedGradientsOptions {
  /** Path points, 1..=254 (default 32). */
  steps?: number;
  baseline?: "black" | "mean";
}
/** The result of `integratedGradients`, with its completeness check. */
export interface IntegratedGradients {
  map: Float32Array;
  /** Σ attribution. */
  total: number;
  /** S_c(x) − S_c(baseline): what the total should be. */
  difference: number;
  /** |total − difference| / |difference|. */
  error: number;
}
/** Options of `faithfulness`; every field is optional. */
export interface FaithfulnessOptions {
  /** Pixels per step, 1..=height × width (default 16). */
  k?: number;
  /** The random order's seed. */
  seed?: number;
}
/** One map's deletion and insertion curves: p(c) after each step of k pixels. */
export interface FaithfulnessCurve {
  name: string;
  deletion: Float32Array;
  insertion: Float32Array;
  /** Lower is better. */
  deletionAuc: number;
  /** Higher is better. */
  insertionAuc: number;
}
/** The result of `faithfulness`: one curve per map, then "random". */
export interface Faithfulness {
  k: number;
  curves: FaithfulnessCurve[];
}
/** One method across the sanity check's stages. */
export interface SanityMethod {
  name: "gradient" | "gradientInput" | "deconvnet" | "guided" | "lrp";
  /** One signed map per stage, summed over channels: height × width values. */
  maps: Float32Array[];
  /** Spearman correlation of the (signed) map with the trained network's, per stage. */
  spearman: number[];
}
/** The result of `sanity`. */
export interface Sanity {
  /** `sanityStages`: "trained", then the layer re-initialised at each stage, from the top. */
  stages: string[];
  methods: SanityMethod[];
}
/** The result of `localise`. */
export interface Localisation {
  /** The value a pixel must exceed to be foreground. */
  threshold: number;
  /** 1 for the pixels above the threshold. */
  mask: Uint8Array;
  /** 1 for the pixels of the largest connected component of the mask. */
  component: Uint8Array;
  /** The component's box; null when nothing exceeds the threshold. */
  box: { x: number; y: number; width: number; height: number } | null;
}
/** What `evaluate` measures; every field is optional. */
export interface EvaluationOptions {
  /** Method names (`evaluationCatalogue().methods`); default all. */
  methods?: string[];
  /** Metric names (`evaluationCatalogue().metrics`); default the cheap ones. */
  metrics?: string[];
  /** The index of the first image in the whole set: it seeds each image's draws (chunks give
   * what one call would, up to float rounding). */
  first?: number;
  seed?: number;
  /** Called after every `chunk` images; return `false` to stop (the result holds the images done). */
  onProgress?: (progress: { done: number; total: number }) => boolean | void;
  /** Images between progress calls (default 10). */
  chunk?: number;
}
/** The result of `evaluate`. */
export interface Evaluation {
  methods: string[];
  metrics: string[];
  /** `values[(image · methods + method) · metrics + metric]`; NaN where undefined. */
  values: Float64Array;
}
/** `evaluationCatalogue()`. */
export interface EvaluationCatalogue {
  methods: { name: string; title: string }[];
  metrics: {
    name: string;
    /** Quantus's class name. */
    quantus: string;
    group: "faithfulness" | "robustness" | "complexity" | "randomisation" | "localisation" | "axiomatic";
    better: "higher" | "lower";
    /** Re-explains noisy copies or randomised networks: slow over a set. */
    costly: boolean;
    /** What "better" means, in one line. */
    meaning: string;
  }[];
}
/** One method's values of one metric over the images. */
export interface MetricSummary {
  n: number;
  mean: number;
  /** The 95 % bootstrap interval of the mean. */
  low: number;
  high: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}
/** `summarise(values, methods, metrics)`. */
export interface EvaluationSummary {
  images: number;
  resamples: number;
  methods: {
    method: string;
    metrics: Record<string, MetricSummary>;
    /** 1 = the best mean; ties share. */
    ranks: Record<string, number>;
    meanRank: number;
  }[];
}
"#;
