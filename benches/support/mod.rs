//! What every bench shares: statistics and the `name value` output format.
//! A directory module, so that cargo does not take it for a bench of its own.
#![allow(clippy::mod_module_files)]
// Each bench uses a part of it.
#![allow(dead_code)]

/// The median of `values` (sorts them).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The `p` quantile (0..=1) of `samples` (sorts them).
pub(crate) fn percentile(samples: &mut [u64], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index] as f64
}

/// Prints one figure as `name value`.
pub(crate) fn print(name: &str, value: f64) {
    println!("{name} {value:.3}");
}
