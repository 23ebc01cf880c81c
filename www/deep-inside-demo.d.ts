// Types of <deep-inside-demo> (deep-inside-demo.js). Importing the module registers the element and
// exports nothing at run time, so every export here is a type. The attributes are set as HTML has
// them (strings); the read-only properties give each as the element uses it: defaults filled in,
// bad values replaced.

/** What the element shows. */
export type DeepInsideMethod =
  | 'saliency' | 'lrp' | 'class-model' | 'predict'
  | 'localisation' | 'attributions' | 'faithfulness' | 'sanity';

/** The backend asked of the worker. One worker serves every element of the page, so it is page-wide. */
export type DeepInsideBackend = 'auto' | 'cpu' | 'webgpu';

/** A map a method can show; the `maps` attribute picks some, in its order. */
export type DeepInsideMap =
  | 'gradient' | 'deconvnet' | 'guided' | 'gradientInput' | 'smoothGrad' | 'integratedGradients' | 'lrp';

/** The shipped models (the wasm's `models()`). */
export type DeepInsideModel = 'mnist' | 'mnist-deep' | 'fashion';

/** The element's attributes: all optional, all strings. */
export interface DeepInsideDemoAttributes {
  /** Default "saliency". */
  method?: DeepInsideMethod;
  /** 0..9: the class of the held-out image shown first. Default 8. */
  digit?: string;
  /** A shipped model. Default "mnist". */
  model?: DeepInsideModel;
  /** Default "auto": the CPU answers first, WebGPU takes over where the browser has it. */
  backend?: DeepInsideBackend;
  /** The URL of your own model (.onnx, or the .safetensors of scripts/export_pytorch.py), shown
   * instead of `model`; fetched once per page (CORS and the page's CSP connect-src apply). */
  'model-src'?: string;
  /** Comma-separated `DeepInsideMap` names; default: every map the method has. */
  maps?: string;
  /** The class to explain (0-based); default: the predicted class. */
  target?: string;
  /** LRP's rules: a preset ("recommended", "epsilon", "zplus", "alpha2beta1", "epsilon_plus") or
   * one rule per conv/dense layer, comma-separated ("zbox, gamma(0.25), epsilon, zero"). */
  composite?: string;
  /** "localisation": the saliency quantile above which pixels count. Default 0.95. */
  quantile?: string;
  /** "class-model": the ascent's preset, "paper" (default), "readable" or "lucid". */
  preset?: string;
  /** SmoothGrad's noise, a fraction of the pixel range. Default 0.15. */
  sigma?: string;
  /** SmoothGrad's noisy copies. Default 32. */
  samples?: string;
  /** Integrated Gradients' steps. Default 32. */
  steps?: string;
  /** "sanity": show only the trained network and this stage of the cascade (a layer name). */
  stage?: string;
}

/** The element. For tests and embedders it also sets `data-updates` (repaints), `data-ready="1"`
 * (after the first), `data-backend` ("cpu" | "webgpu", of the last result) and `data-steps`. */
export interface DeepInsideDemo extends HTMLElement {
  readonly method: DeepInsideMethod;
  readonly digit: number;
  readonly model: string;
  readonly backend: DeepInsideBackend;
  /** The maps shown; empty for a method without a choice of maps. */
  readonly maps: DeepInsideMap[];
  /** The class explained; -1 for the predicted one. */
  readonly target: number;
  /** A preset's name, or one rule per weighted layer. */
  readonly composite: string | string[];
  /** The sanity stage shown, or null for every stage. */
  readonly stage: string | null;
  /** The class model's preset ("paper" unless the attribute names another). */
  readonly preset: string;
  /** `model-src` made absolute against the document, or null. */
  readonly modelSrc: string | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'deep-inside-demo': DeepInsideDemo;
  }
}
