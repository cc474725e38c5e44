//! Reproducible random streams: every random quantity in sparselift is drawn from a
//! ChaCha stream keyed by the user's seed, a tag naming its purpose, and its position
//! (base edge, chunk), so results never depend on thread count or evaluation order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream is used for; part of its key, so purposes never share a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Sampling the lifted edges of a base edge.
    Lift = 1,
    /// Initialising weights.
    Init = 2,
    /// Shuffling, splitting and generating data.
    Data = 3,
}

/// The stream for `(seed, purpose, a, b)`: the four words form the 256-bit ChaCha key.
pub fn stream(seed: u64, purpose: Purpose, a: u64, b: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    for (i, w) in [seed, purpose as u64, a, b].into_iter().enumerate() {
        key[i * 8..][..8].copy_from_slice(&w.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}
