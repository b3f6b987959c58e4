//! An open-addressing index from a key's hash to its position in a dense list the caller keeps.
//!
//! Each cell is one `u64`: the hash's top bits as a tag, and the position. Probing is linear
//! from the cell the hash's low bits pick, and a lookup compares keys only where the tag
//! matches, so most lookups read one cell and then the one entry it names. The caller keeps
//! its entries contiguous (removing by moving the last entry into the hole) and tells the
//! index where entries went.

/// A cell that never named an entry: probing stops here.
const EMPTY: u64 = 0;
/// A cell whose entry was removed: probing goes on past it.
const TOMBSTONE: u64 = 1;
/// Low bits of a cell: the position plus two (past the markers above).
const POS_BITS: u32 = 34;
const POS_MASK: u64 = (1 << POS_BITS) - 1;

#[inline]
fn tag(hash: u64) -> u64 {
    hash & !POS_MASK
}

/// Where a key absent from the index would go; see [`Index::find`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vacant(usize);

/// The index itself.
pub(crate) struct Index {
    cells: Vec<u64>,
    tombstones: usize,
}

impl Index {
    pub(crate) fn new() -> Self {
        Self {
            cells: vec![EMPTY; 8],
            tombstones: 0,
        }
    }

    /// The position of the entry with `hash` for which `is` holds, or where to insert one.
    #[inline]
    pub(crate) fn find(
        &self,
        hash: u64,
        mut is: impl FnMut(usize) -> bool,
    ) -> Result<usize, Vacant> {
        let mask = self.cells.len() - 1;
        let tag = tag(hash);
        let mut cell = hash as usize & mask;
        let mut free = None;
        loop {
            match self.cells[cell] {
                EMPTY => return Err(Vacant(free.unwrap_or(cell))),
                TOMBSTONE => {
                    free.get_or_insert(cell);
                }
                c if c & !POS_MASK == tag => {
                    let pos = (c & POS_MASK) as usize - 2;
                    if is(pos) {
                        return Ok(pos);
                    }
                }
                _ => {}
            }
            cell = (cell + 1) & mask;
        }
    }

    /// Records that the entry with `hash` is at `pos`, in the cell `find` returned for it, with
    /// no change to the index since. `len` is the number of entries afterwards, and `hash_of`
    /// gives each entry's hash, for when the index grows.
    pub(crate) fn insert(
        &mut self,
        at: Vacant,
        hash: u64,
        pos: usize,
        len: usize,
        hash_of: impl Fn(usize) -> u64,
    ) {
        let Vacant(cell) = at;
        if self.cells[cell] == TOMBSTONE {
            self.tombstones -= 1;
        }
        self.cells[cell] = tag(hash) | (pos as u64 + 2);
        if (len + self.tombstones) * 4 > self.cells.len() * 3 {
            self.rebuild(len, hash_of);
        }
    }

    /// Forgets the entry with `hash` at `pos`.
    pub(crate) fn remove(&mut self, hash: u64, pos: usize) {
        let cell = self.cell_of(hash, pos);
        self.cells[cell] = TOMBSTONE;
        self.tombstones += 1;
    }

    /// Records that the entry with `hash` moved from `from` to `to`.
    pub(crate) fn moved(&mut self, hash: u64, from: usize, to: usize) {
        let cell = self.cell_of(hash, from);
        self.cells[cell] = tag(hash) | (to as u64 + 2);
    }

    /// Bytes the index occupies.
    pub(crate) fn bytes(&self) -> usize {
        self.cells.capacity() * size_of::<u64>()
    }

    /// The cell naming the entry with `hash` at `pos`, which must be indexed.
    fn cell_of(&self, hash: u64, pos: usize) -> usize {
        let mask = self.cells.len() - 1;
        let named = tag(hash) | (pos as u64 + 2);
        let mut cell = hash as usize & mask;
        while self.cells[cell] != named {
            debug_assert_ne!(self.cells[cell], EMPTY, "entry {pos} is not indexed");
            cell = (cell + 1) & mask;
        }
        cell
    }

    /// Re-indexes `len` entries in a table at most half full, dropping tombstones.
    fn rebuild(&mut self, len: usize, hash_of: impl Fn(usize) -> u64) {
        let size = (len * 2).next_power_of_two().max(8);
        let mask = size - 1;
        let mut cells = vec![EMPTY; size];
        for pos in 0..len {
            let hash = hash_of(pos);
            let mut cell = hash as usize & mask;
            while cells[cell] != EMPTY {
                cell = (cell + 1) & mask;
            }
            cells[cell] = tag(hash) | (pos as u64 + 2);
        }
        self.cells = cells;
        self.tombstones = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dense list of hashes, kept as the registry keeps its entries.
    struct List {
        index: Index,
        hashes: Vec<u64>,
    }

    impl List {
        fn find(&self, hash: u64) -> Result<usize, Vacant> {
            self.index.find(hash, |pos| self.hashes[pos] == hash)
        }

        fn insert(&mut self, hash: u64) {
            let at = self.find(hash).expect_err("absent");
            self.hashes.push(hash);
            let hashes = &self.hashes;
            self.index
                .insert(at, hash, hashes.len() - 1, hashes.len(), |p| hashes[p]);
        }

        fn remove(&mut self, hash: u64) {
            let pos = self.find(hash).expect("present");
            self.index.remove(hash, pos);
            let last = self.hashes.len() - 1;
            if pos != last {
                self.index.moved(self.hashes[last], last, pos);
            }
            self.hashes.swap_remove(pos);
        }
    }

    #[test]
    fn finds_what_was_inserted_through_growth_moves_and_removals() {
        let mut list = List {
            index: Index::new(),
            hashes: Vec::new(),
        };
        // Hashes that share low bits, and so probe through one another, and share tags.
        let hash = |i: u64| (i << 40) | (i % 3) | ((i % 5) << 34);
        for i in 0..1000 {
            list.insert(hash(i));
        }
        for i in (0..1000).step_by(3) {
            list.remove(hash(i));
        }
        for i in 0..1000 {
            let found = list.find(hash(i));
            if i % 3 == 0 {
                assert!(found.is_err(), "{i} was removed");
            } else {
                assert_eq!(list.hashes[found.expect("kept")], hash(i));
            }
        }
        // Removed keys come back, reusing tombstones.
        for i in (0..1000).step_by(3) {
            list.insert(hash(i));
        }
        assert!((0..1000).all(|i| list.find(hash(i)).is_ok()));
        assert!(list.index.bytes() >= 1000 * size_of::<u64>());
    }
}
