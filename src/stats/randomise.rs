//! Stratified permuted-block randomisation, for experiments: within each stratum (segment ×
//! risk tier, say), accounts are assigned in the order they qualify to slots 0, 1, 2, …;
//! slots come in short blocks holding every variant in proportion to its allocation, each block
//! shuffled by a generator seeded from (experiment seed, stratum, block number). So an
//! assignment is reproducible from those three and the slot alone, never depends on later
//! accounts, and every stratum stays balanced to within one block.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The longest block worth using: small blocks keep small strata balanced.
const MAX_BLOCK: usize = 12;
/// How far (in percentage points of the total) a short block may round an allocation.
const TOLERANCE: f64 = 1.5;

/// One block's variants in order before shuffling. Exact when the allocations reduce to a
/// block of at most 12 (1/1 gives 2, 90/10 gives 10); otherwise the shortest block of at
/// most 12 whose rounded shares are each within 1.5 points of the allocation (33/34/33
/// gives 1/1/1), and failing that the exact block (33/34/33 would need 100).
pub fn block(allocation: &[u32]) -> Vec<usize> {
    let total: u32 = allocation.iter().sum();
    if total == 0 {
        return Vec::new();
    }
    let g = allocation.iter().copied().fold(0, gcd).max(1);
    let counts: Vec<u32> = if (total / g) as usize <= MAX_BLOCK {
        allocation.iter().map(|w| w / g).collect()
    } else {
        (allocation.len()..=MAX_BLOCK)
            .map(|len| {
                allocation
                    .iter()
                    .map(|&w| (f64::from(w) * len as f64 / f64::from(total)).round() as u32)
                    .collect::<Vec<u32>>()
            })
            .find(|c| {
                let len: u32 = c.iter().sum();
                len > 0
                    && c.iter().zip(allocation).all(|(&k, &w)| {
                        (w == 0) == (k == 0)
                            && (100.0
                                * (f64::from(k) / f64::from(len) - f64::from(w) / f64::from(total)))
                            .abs()
                                <= TOLERANCE
                    })
            })
            .unwrap_or_else(|| allocation.iter().map(|w| w / g).collect())
    };
    counts
        .iter()
        .enumerate()
        .flat_map(|(i, &k)| std::iter::repeat_n(i, k as usize))
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// FNV-1a over the stratum's name: a stable seed component (unlike std's hasher).
fn stratum_key(stratum: &str) -> u64 {
    stratum.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The variant of slot `slot` in `stratum`; `None` if no variant has an allocation.
pub fn variant(seed: u64, stratum: &str, slot: u64, allocation: &[u32]) -> Option<usize> {
    let mut b = block(allocation);
    if b.is_empty() {
        return None;
    }
    let len = b.len() as u64;
    let number = slot / len;
    let mut rng = StdRng::seed_from_u64(
        seed ^ stratum_key(stratum).rotate_left(17) ^ number.wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    b.shuffle(&mut rng);
    Some(b[(slot % len) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(seed: u64, stratum: &str, slots: u64, allocation: &[u32]) -> Vec<u64> {
        let mut c = vec![0; allocation.len()];
        for s in 0..slots {
            c[variant(seed, stratum, s, allocation).unwrap()] += 1;
        }
        c
    }

    #[test]
    fn blocks_hold_each_variant_in_proportion() {
        assert_eq!(block(&[1, 1]), [0, 1]);
        assert_eq!(block(&[50, 50]), [0, 1]);
        assert_eq!(block(&[90, 10]).len(), 10);
        assert_eq!(block(&[70, 30]).iter().filter(|v| **v == 1).count(), 3);
        // 33/34/33 rounds to thirds (within 0.7 points), not a block of 100.
        assert_eq!(block(&[33, 34, 33]), [0, 1, 2]);
        // 45/55 → 4/5 of 9 (44.4 % / 55.6 %).
        assert_eq!(block(&[45, 55]), [0, 0, 0, 0, 1, 1, 1, 1, 1]);
        // 1/98/1 has no short block within 1.5 points of every share: the exact one.
        assert_eq!(block(&[1, 98, 1]).len(), 100);
        assert_eq!(block(&[0, 0]), Vec::<usize>::new());
        assert_eq!(variant(1, "x", 0, &[0, 0]), None);
    }

    #[test]
    fn the_same_seed_stratum_and_slot_give_the_same_variant() {
        let a: Vec<_> = (0..500)
            .map(|s| variant(7, "smb/high", s, &[33, 34, 33]))
            .collect();
        let b: Vec<_> = (0..500)
            .map(|s| variant(7, "smb/high", s, &[33, 34, 33]))
            .collect();
        assert_eq!(a, b);
        let other: Vec<_> = (0..500)
            .map(|s| variant(7, "smb/low", s, &[33, 34, 33]))
            .collect();
        assert_ne!(a, other, "strata are shuffled independently");
        let reseeded: Vec<_> = (0..500)
            .map(|s| variant(8, "smb/high", s, &[33, 34, 33]))
            .collect();
        assert_ne!(a, reseeded);
    }

    #[test]
    fn every_prefix_is_balanced_to_within_one_block() {
        for allocation in [&[1, 1][..], &[33, 34, 33], &[90, 10], &[1, 2], &[45, 55]] {
            let b = block(allocation);
            let len = b.len() as u64;
            let share = |i: usize| b.iter().filter(|v| **v == i).count() as u64;
            for slots in [1, 7, len, 3 * len + 5, 1000] {
                let c = counts(3, "enterprise/medium", slots, allocation);
                for (i, &n) in c.iter().enumerate() {
                    // Whole blocks give exactly the share; the open block adds at most one share.
                    let whole = slots / len * share(i);
                    assert!(
                        n >= whole && n <= whole + share(i),
                        "{allocation:?} after {slots}: {c:?}"
                    );
                }
            }
            // After whole blocks each variant has exactly its block share.
            let c = counts(3, "s", 10 * len, allocation);
            let want: Vec<u64> = (0..allocation.len()).map(|i| 10 * share(i)).collect();
            assert_eq!(c, want);
        }
    }
}
