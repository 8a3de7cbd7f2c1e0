//! Statistics for benchmark samples: [`stats::summarize`] (median, mean, standard deviation, MAD,
//! a bootstrap 95% confidence interval of the median, Tukey outlier counts) and
//! [`stats::ratio_ci`], the slowdown of one runner against another with its own interval.
//!
//! [`suite`] builds on them: sampling policy, the checksum gate and the runner loop; [`scratch`]
//! picks the (preferably RAM-backed) directory workloads write in; [`pin`] keeps the measured
//! runs on one CPU; [`compare`] sets two results
//! files side by side; [`artifacts`] builds the workloads per platform.
//!
//! ```
//! use archbench_bench::stats::summarize;
//!
//! let s = summarize(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
//! assert_eq!(s.median, 3.0);
//! assert_eq!(s.outliers.severe_high, 1);
//! ```
#![deny(missing_docs)]

pub use error::{Error, Result};

pub mod artifacts;
pub mod compare;
mod error;
pub mod export;
pub mod image;
pub mod pin;
pub mod scratch;
pub mod stats;
pub mod suite;
pub mod user;
