//! Robust statistics over timing samples.

/// Bootstrap resamples used for confidence intervals.
pub const RESAMPLES: usize = 2000;

pub use archbench_results::bench::{Outliers, Summary};

/// Deterministic resampling: the same samples always give the same interval, so reports made
/// from the same inputs are byte-identical. xorshift64* is plenty for choosing indices, and a
/// fixed generator here keeps results independent of any RNG crate's version.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Linear-interpolated quantile of sorted data (q in 0..=1).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn median_sorted(s: &[f64]) -> f64 {
    archbench_results::bench::median_of_sorted(s)
}

fn bootstrap_medians(xs: &[f64], rng: &mut Rng) -> Vec<f64> {
    let mut buf = vec![0.0; xs.len()];
    (0..RESAMPLES)
        .map(|_| {
            for b in buf.iter_mut() {
                *b = xs[rng.below(xs.len())];
            }
            buf.sort_by(f64::total_cmp);
            median_sorted(&buf)
        })
        .collect()
}

/// Summarise `xs`; `None` when empty or when any sample is not finite.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let s = sorted(xs);
    let n = s.len();
    let median = median_sorted(&s);
    let mean = s.iter().sum::<f64>() / n as f64;
    let stddev = if n > 1 {
        (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let mad = median_sorted(&sorted(&s.iter().map(|x| (x - median).abs()).collect::<Vec<_>>()));
    let (q1, q3) = (quantile(&s, 0.25), quantile(&s, 0.75));
    let iqr = q3 - q1;
    let mut outliers = Outliers::default();
    for &x in &s {
        if x < q1 - 3.0 * iqr {
            outliers.severe_low += 1;
        } else if x < q1 - 1.5 * iqr {
            outliers.mild_low += 1;
        } else if x > q3 + 3.0 * iqr {
            outliers.severe_high += 1;
        } else if x > q3 + 1.5 * iqr {
            outliers.mild_high += 1;
        }
    }
    let meds = sorted(&bootstrap_medians(&s, &mut Rng(0x9e37_79b9_7f4a_7c15)));
    let median_ci = (quantile(&meds, 0.025), quantile(&meds, 0.975));
    Some(Summary { n, median, mean, stddev, mad, min: s[0], max: s[n - 1], median_ci, outliers })
}

/// Ratio of medians `num / den` (e.g. QEMU time over native time) with a bootstrap 95% interval
/// from resampling both sets independently. `None` when either set is empty or a median is 0.
pub fn ratio_ci(num: &[f64], den: &[f64]) -> Option<(f64, (f64, f64))> {
    let (a, b) = (summarize(num)?, summarize(den)?);
    if b.median <= 0.0 {
        return None;
    }
    let mut rng = Rng(0xd1b5_4a32_d192_ed03);
    let ma = bootstrap_medians(num, &mut rng);
    let mb = bootstrap_medians(den, &mut rng);
    let ratios = sorted(
        &ma.iter().zip(&mb).filter(|(_, d)| **d > 0.0).map(|(n, d)| n / d).collect::<Vec<_>>(),
    );
    if ratios.is_empty() {
        return None;
    }
    Some((a.median / b.median, (quantile(&ratios, 0.025), quantile(&ratios, 0.975))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_summary() {
        // Sorted: 1 2 3 4 100. Median 3, mean 22, deviations from median 2 1 0 1 97 → MAD 1.
        let s = summarize(&[4.0, 100.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.n, s.median, s.mean, s.mad, s.min, s.max), (5, 3.0, 22.0, 1.0, 1.0, 100.0));
        // stddev: squares 441 400 361 324 6084 = 7610, /4 = 1902.5
        assert!((s.stddev - 1902.5f64.sqrt()).abs() < 1e-12);
        // Q1 2, Q3 4, IQR 2: 100 > 4 + 6 → severe.
        assert_eq!(s.outliers, Outliers { severe_high: 1, ..Default::default() });
        assert!(s.median_ci.0 <= s.median && s.median <= s.median_ci.1);
        assert_eq!(summarize(&[4.0, 100.0, 1.0, 3.0, 2.0]).unwrap(), s, "deterministic");
    }

    #[test]
    fn even_counts_interpolate_and_bad_input_is_refused() {
        assert_eq!(summarize(&[1.0, 2.0, 3.0, 4.0]).unwrap().median, 2.5);
        let one = summarize(&[7.0]).unwrap();
        assert_eq!((one.median, one.stddev, one.median_ci), (7.0, 0.0, (7.0, 7.0)));
        assert!(summarize(&[]).is_none());
        assert!(summarize(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn ratio_interval_brackets_a_known_slowdown() {
        let native: Vec<f64> = (0..30).map(|i| 0.100 + (i % 5) as f64 * 0.001).collect();
        let qemu: Vec<f64> = native.iter().map(|x| x * 8.0).collect();
        let (r, (lo, hi)) = ratio_ci(&qemu, &native).unwrap();
        assert!((r - 8.0).abs() < 1e-9);
        assert!(lo <= 8.0 && 8.0 <= hi && hi - lo < 0.5, "{lo} {hi}");
        assert!(ratio_ci(&qemu, &[0.0]).is_none());
    }
}
