//! The cost model: what each way of producing amd64 + arm64 images costs per month, which one
//! to use and how sure that choice is, and what moving a service to Graviton would cost, from
//! archbench's measurements.
//!
//! * [`pricing::Catalog`]: prices with source and date, dated price changes
//!   (`fixtures/pricing.toml`, or the user's).
//! * [`measure::factors`]: the ratios the model needs, from `build` and `bench` results files,
//!   each labelled measured or modelled, comparing like with like.
//! * [`options`]: every way to build (emulate or cross on one runner or as a matrix, native
//!   arm64 on hosted runners or a self-hosted worker, Wasm) as the CI jobs a provider bills.
//! * [`model::plan`]: all options priced, break-even volumes, the migration projection, and a
//!   recommendation ([`choose`]) with the range over which it holds ([`sensitivity`]).
//!
//! ```
//! use archbench_plan::model::{plan, Factor, Factors, Profile};
//! use archbench_plan::options::BuildOption;
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
//! let profile = Profile { date: Some("2026-06-01".into()), ..Profile::default() };
//! let p = plan(&profile, &f, &Catalog::builtin()).unwrap();
//! assert_eq!(p.options.len(), BuildOption::ALL.len());
//! // Hosted arm64 runners are cheaper per minute than x64 ones in 2026, so at equal speed
//! // native arm64 on hosted runners is the cheapest way, and the fastest.
//! assert_eq!(p.recommended, Some(BuildOption::NativeArm64Hosted));
//! assert!(p.recommendation[0].starts_with("build with native-arm64-hosted"));
//! ```
#![deny(missing_docs)]

pub mod choose;
mod error;
pub mod inputs;
pub mod measure;
pub mod model;
pub mod options;
pub mod outcome;
pub mod price;
pub mod pricing;
pub mod sensitivity;

pub use error::{Error, Result};

/// The plan from a loaded results directory: factors measured where the results allow
/// ([`measure::factors`]), priced from `catalog` for `profile`, and the files the reader skipped
/// listed in the plan. `plan` and `report` both call this, on the same loaded results.
pub fn compute(
    inputs: &archbench_results::dir::Results,
    catalog: &pricing::Catalog,
    profile: &model::Profile,
) -> Result<model::Plan> {
    let f = measure::factors(inputs, profile.warm);
    let mut p = model::plan(profile, &f, catalog)?;
    p.skipped_inputs = inputs.skip_notes();
    Ok(p)
}
