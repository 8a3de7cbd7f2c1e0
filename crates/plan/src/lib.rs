//! The cost model: what each way of producing arm64 images costs per month, where strategies
//! break even, and what moving a service to Graviton would cost, from archbench's measurements.
//!
//! * [`pricing::Catalog`]: prices with source and date (`fixtures/pricing.toml`, or the user's).
//! * [`measure::factors`]: the ratios the model needs, from `build` and `bench` results files,
//!   each labelled measured or modelled.
//! * [`model::plan`]: costs of the four strategies (emulate, cross, native arm64 workers, Wasm),
//!   break-even volumes, the migration projection and a recommendation with its numbers.
//!
//! ```
//! use archbench_plan::model::{plan, Factor, Factors, Profile};
//! use archbench_plan::pricing::Catalog;
//!
//! let f = Factors {
//!     emulated: Factor::measured(6.0, "example"),
//!     cross: Factor::measured(1.1, "example"),
//!     arm64_build: Factor::modelled(1.0, "example"),
//!     wasm_build: Factor::modelled(1.0, "example"),
//!     wasm_runtime: Factor::measured(1.4, "example"),
//!     arm64_runtime: Factor::modelled(1.0, "example"),
//! };
//! let p = plan(&Profile::default(), &f, &Catalog::builtin()).unwrap();
//! assert_eq!(p.strategies.len(), 4);
//! assert!(p.recommendation[0].starts_with("build with"));
//! ```
#![deny(missing_docs)]

mod error;
pub mod measure;
pub mod model;
pub mod pricing;

pub use error::{Error, Result};
