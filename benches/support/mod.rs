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

/// Bytes allocated and not yet freed, by `counter` (the bench's counting
/// global allocator).
pub(crate) fn live_heap_mb(counter: &stats_alloc::StatsAlloc<std::alloc::System>) -> f64 {
    let stats = counter.stats();
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated) as f64
        / (1024.0 * 1024.0)
}

/// This process's resident memory in MB (Linux; 0 where
/// `/proc/self/status` cannot be read).
pub(crate) fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        });
    kb.unwrap_or(0.0) / 1024.0
}

/// The least-squares slope of `y` against `x` over `points` (0 for fewer
/// than two points).
pub(crate) fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let (mean_x, mean_y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), (px, py)| (x + px / n, y + py / n));
    let (mut cov, mut var) = (0.0, 0.0);
    for (x, y) in points {
        cov += (x - mean_x) * (y - mean_y);
        var += (x - mean_x) * (x - mean_x);
    }
    if var == 0.0 { 0.0 } else { cov / var }
}
