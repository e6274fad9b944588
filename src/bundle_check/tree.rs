//! RFC 6962 / RFC 9162 Merkle hashing and the inclusion-proof check, written from the RFCs for
//! the bundle check alone (the service's tree code is deliberately not used).

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// RFC 6962 §2.1: the hash of a leaf, `SHA-256(0x00 ‖ data)`.
pub fn leaf(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00u8])
        .chain_update(data)
        .finalize()
        .into()
}

/// RFC 6962 §2.1: the hash of an interior node, `SHA-256(0x01 ‖ left ‖ right)`.
fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// RFC 9162 §2.1.3.2: the root that `path` leads to from the leaf `hash` at `index` in a tree of
/// `size` leaves; `None` when the path has the wrong length for that position.
pub fn root_from_path(index: u64, size: u64, hash: Hash, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = hash;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ % 2 == 1 || fn_ == sn {
            r = node(p, &r);
            while fn_ % 2 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest power of two smaller than `n` (`n > 1`).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// MTH of RFC 6962 §2.1, computed the slow way.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            1 => leaves[0],
            n => node(&mth(&leaves[..split(n)]), &mth(&leaves[split(n)..])),
        }
    }

    /// PATH of RFC 6962 §2.1.1, computed the slow way.
    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn every_path_of_small_trees_leads_to_the_root_and_a_changed_one_does_not() {
        for size in 1..=17usize {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf(&[i as u8])).collect();
            let root = mth(&leaves);
            for m in 0..size {
                let p = path(m, &leaves);
                assert_eq!(
                    root_from_path(m as u64, size as u64, leaves[m], &p),
                    Some(root)
                );
                let other = leaf(b"another");
                assert_ne!(root_from_path(m as u64, size as u64, other, &p), Some(root));
                if !p.is_empty() {
                    assert_eq!(
                        root_from_path(m as u64, size as u64, leaves[m], &p[1..]),
                        None
                    );
                }
            }
        }
    }
}
