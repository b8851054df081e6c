//! A hash that is the same in every process and every run, for placing
//! keys (a consistent-hash ring, the registry's name shards); std's
//! `RandomState` is seeded per process.

/// FNV-1a over `bytes`, finished with a multiply-shift.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    });
    // FNV's low bits mix poorly for short keys: finish with a multiply-shift.
    (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (hash >> 32)
}
