//! RFC 6962 / 9162 Merkle tree arithmetic over the access log, independent of storage: hashes,
//! the growing right edge that the sealer keeps in memory, proofs built from stored subtree
//! roots, and the checks that clients (and the service, before it answers) run on proofs.
//!
//! Storage keeps the leaves and the roots of complete subtrees at every eighth level (`GROUP`),
//! so any subtree hash needs at most a block of 256 stored hashes.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Levels between stored node layers: layer `g` holds complete subtrees of `2^(8g)` leaves.
pub const GROUP: u32 = 8;
/// Hashes per stored block: `2^GROUP`.
pub const BLOCK: u64 = 1 << GROUP;

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The root of a complete subtree whose `2^k` bottom hashes are given in order.
pub fn fold(hashes: &[Hash]) -> Hash {
    let mut layer: Vec<Hash> = hashes.to_vec();
    while layer.len() > 1 {
        layer = layer
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => node_hash(l, r),
                [one, ..] => *one,
                [] => empty_root(),
            })
            .collect();
    }
    layer.first().copied().unwrap_or_else(empty_root)
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// Where stored hashes come from: `get(layer, from, to)` returns the hashes of layer `layer`
/// (0: leaves; g: complete subtrees of `2^(8g)` leaves) with indexes `from..to`.
pub trait Store {
    /// The error of the storage.
    type Error;
    /// Hashes `from..to` of a layer, in order.
    fn get(&mut self, layer: u32, from: u64, to: u64) -> Result<Vec<Hash>, Self::Error>;
}

/// The hash of the complete subtree of `2^level` leaves starting at leaf `start` (aligned).
fn complete<S: Store>(store: &mut S, level: u32, start: u64) -> Result<Hash, S::Error> {
    let layer = level / GROUP;
    let below = level % GROUP;
    let first = start >> (layer * GROUP);
    let hashes = store.get(layer, first, first + (1 << below))?;
    Ok(fold(&hashes))
}

/// MTH of leaves `start..end`, as RFC 6962 defines it (`start` aligned as proofs need).
pub fn subtree<S: Store>(store: &mut S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        return complete(store, n.trailing_zeros(), start);
    }
    let k = split(n);
    let left = subtree(store, start, start + k)?;
    let right = subtree(store, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// The audit path of leaf `index` in the tree of `size` leaves (RFC 6962 PATH), bottom first.
pub fn inclusion<S: Store>(store: &mut S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    path(store, index, 0, size, &mut out)?;
    Ok(out)
}

fn path<S: Store>(
    store: &mut S,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < start + k {
        path(store, m, start, start + k, out)?;
        out.push(subtree(store, start + k, end)?);
    } else {
        path(store, m, start + k, end, out)?;
        out.push(subtree(store, start, start + k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `from` leaves to that of `to` (RFC 6962 PROOF).
pub fn consistency<S: Store>(store: &mut S, from: u64, to: u64) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    if from > 0 && from < to {
        subproof(store, from, 0, to, true, &mut out)?;
    }
    Ok(out)
}

fn subproof<S: Store>(
    store: &mut S,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(subtree(store, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(store, m, start, start + k, whole, out)?;
        out.push(subtree(store, start + k, end)?);
    } else {
        subproof(store, m - k, start + k, end, false, out)?;
        out.push(subtree(store, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: true when `proof` shows leaf `index` with `leaf` hash in the tree of
/// `size` leaves with this `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: true when `proof` shows the tree of `from` leaves with `old` root is a
/// prefix of the tree of `to` leaves with `new` root.
pub fn verify_consistency(from: u64, to: u64, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if from == to {
        return proof.is_empty() && old == new;
    }
    if from == 0 || from > to {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if from.is_power_of_two() {
        path.insert(0, *old);
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f_n, mut s_n) = (from - 1, to - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    f_r == *old && s_r == *new && s_n == 0
}

/// The tree's right edge: per stored layer, the hashes of its last, incomplete block. Enough to
/// append leaves, to know which stored nodes each append completes, and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `pending[g]`: the layer-g hashes after the last complete block of layer g.
    pending: Vec<Vec<Hash>>,
}

/// A stored node a leaf append completed: (layer, index, hash).
pub type NewNode = (u32, u64, Hash);

impl Frontier {
    /// The right edge of a tree of `size` leaves; `pending[g]` as [`Frontier::needs`] names them.
    pub fn from_parts(size: u64, pending: Vec<Vec<Hash>>) -> Self {
        Self { size, pending }
    }

    /// For a tree of `size` leaves: per layer, the index range of the hashes the frontier holds.
    pub fn needs(size: u64) -> Vec<(u32, u64, u64)> {
        let mut out = Vec::new();
        let mut layer = 0;
        while let Some(count) = size.checked_shr(layer * GROUP).filter(|c| *c > 0) {
            out.push((layer, count - count % BLOCK, count));
            layer += 1;
        }
        out
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the stored nodes it completed.
    pub fn push(&mut self, leaf: Hash) -> Vec<NewNode> {
        let mut done = Vec::new();
        let mut carry = leaf;
        let mut layer = 0usize;
        loop {
            if self.pending.len() <= layer {
                self.pending.push(Vec::new());
            }
            self.pending[layer].push(carry);
            if self.pending[layer].len() as u64 != BLOCK {
                break;
            }
            carry = fold(&self.pending[layer]);
            self.pending[layer].clear();
            let index = self.size >> ((layer as u32 + 1) * GROUP);
            done.push((layer as u32 + 1, index, carry));
            layer += 1;
        }
        self.size += 1;
        done
    }

    /// The tree's root hash.
    pub fn root(&self) -> Hash {
        // The complete subtrees of the right edge, largest first: bits of each layer's count.
        let mut roots = Vec::new();
        for hashes in self.pending.iter().rev() {
            let mut offset = 0;
            for bit in (0..GROUP).rev() {
                let width = 1usize << bit;
                if hashes.len() & width != 0 {
                    roots.push(fold(&hashes[offset..offset + width]));
                    offset += width;
                }
            }
        }
        let Some(mut root) = roots.pop() else {
            return empty_root();
        };
        while let Some(left) = roots.pop() {
            root = node_hash(&left, &root);
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layer computed from the leaves, as storage would hold it.
    struct Memory(Vec<Hash>);

    impl Store for Memory {
        type Error = ();
        fn get(&mut self, layer: u32, from: u64, to: u64) -> Result<Vec<Hash>, ()> {
            let width = 1usize << (layer * GROUP);
            Ok((from..to)
                .map(|i| fold(&self.0[i as usize * width..(i as usize + 1) * width]))
                .collect())
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn the_frontier_root_equals_the_tree_root_and_proofs_verify() {
        for n in [1u64, 2, 3, 5, 255, 256, 257, 511, 700, 65_537] {
            let hashes = leaves(n);
            let mut frontier = Frontier::default();
            for h in &hashes {
                frontier.push(*h);
            }
            let mut store = Memory(hashes.clone());
            let root = subtree(&mut store, 0, n).unwrap();
            assert_eq!(frontier.root(), root, "size {n}");
            for i in [0, n / 2, n - 1] {
                let proof = inclusion(&mut store, i, n).unwrap();
                assert!(verify_inclusion(i, n, &hashes[i as usize], &proof, &root));
            }
            for m in [1, n / 3 + 1, n] {
                let old = subtree(&mut store, 0, m).unwrap();
                let proof = consistency(&mut store, m, n).unwrap();
                assert!(verify_consistency(m, n, &old, &root, &proof), "{m} → {n}");
            }
        }
    }
}
