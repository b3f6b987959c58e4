//! An open-addressing index from a key's hash to its position in a dense list the caller keeps.
//!
//! The limiter's shards and the breaker registry's shards both keep their entries in a dense
//! list (removing by moving the last entry into the hole, so sweeps walk plain ranges) and find
//! them through this index. Each cell holds a tag taken from the hash and the entry's position;
//! probing is linear from the cell the hash's low bits pick, and keys are compared only where
//! the tag matches, so most lookups read one cell and then the one entry it names. Removed
//! entries leave tombstones, which probing walks past and insertion reuses; the index is rebuilt
//! without them, at most half full, once live cells and tombstones fill three quarters of it.
//!
//! The caller stores no hashes in the index's cells beyond the tag, so growth asks the caller for
//! each entry's hash.

/// A cell's layout: the low bits name a position (plus two, past the markers), the high bits
/// hold a tag from the hash.
pub(crate) trait Cell: Copy + Eq {
    /// A cell that never named an entry: probing stops here.
    const EMPTY: Self;
    /// A cell whose entry was removed: probing goes on past it.
    const TOMBSTONE: Self;
    /// The most entries an index of these cells can name.
    const MAX_ENTRIES: usize;

    /// The tag bits for `hash`, with the position bits clear.
    fn tag(hash: u64) -> Self;
    /// This cell's tag bits, with the position bits clear.
    fn tag_bits(self) -> Self;
    /// The cell naming position `pos` under `tag`.
    fn with_pos(tag: Self, pos: usize) -> Self;
    /// The position this cell names; meaningless for the markers.
    fn pos(self) -> usize;
}

/// Position bits of a compact cell.
const COMPACT_POS: u32 = (1 << 24) - 1;
/// Position bits of a wide cell.
const WIDE_POS: u64 = (1 << 34) - 1;

/// Compact cells for large tables: 24 bits of position and an 8-bit tag from the hash's bits
/// 32 to 39, apart from the low bits that pick the cell and the top bits that pick a shard.
impl Cell for u32 {
    const EMPTY: Self = 0;
    const TOMBSTONE: Self = 1;
    const MAX_ENTRIES: usize = (COMPACT_POS - 2) as usize;

    #[inline(always)]
    fn tag(hash: u64) -> Self {
        ((hash >> 32) as u32 & 0xff) << COMPACT_POS.count_ones()
    }

    #[inline(always)]
    fn tag_bits(self) -> Self {
        self & !COMPACT_POS
    }

    #[inline(always)]
    fn with_pos(tag: Self, pos: usize) -> Self {
        tag | (pos as u32 + 2)
    }

    #[inline(always)]
    fn pos(self) -> usize {
        (self & COMPACT_POS) as usize - 2
    }
}

/// Wide cells: 34 bits of position and the hash's top 30 bits as the tag.
impl Cell for u64 {
    const EMPTY: Self = 0;
    const TOMBSTONE: Self = 1;
    const MAX_ENTRIES: usize = (WIDE_POS - 2) as usize;

    #[inline(always)]
    fn tag(hash: u64) -> Self {
        hash & !WIDE_POS
    }

    #[inline(always)]
    fn tag_bits(self) -> Self {
        self & !WIDE_POS
    }

    #[inline(always)]
    fn with_pos(tag: Self, pos: usize) -> Self {
        tag | (pos as u64 + 2)
    }

    #[inline(always)]
    fn pos(self) -> usize {
        (self & WIDE_POS) as usize - 2
    }
}

/// Where a key absent from the index would go; see [`Index::find`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vacant(usize);

/// A lookup in progress; see [`Index::probe`].
pub(crate) struct Probe<'a, C> {
    cells: &'a [C],
    mask: usize,
    tag: C,
    cell: usize,
    /// The first tombstone passed, where an absent key would go.
    free: Option<usize>,
}

impl<C: Cell> Probe<'_, C> {
    /// The next position whose cell carries the tag, or, once probing reaches an empty cell,
    /// where the key would go.
    #[inline(always)]
    pub(crate) fn next_candidate(&mut self) -> Result<usize, Vacant> {
        let mut cell = self.cell;
        loop {
            let c = self.cells[cell];
            if c == C::EMPTY {
                return Err(Vacant(self.free.unwrap_or(cell)));
            }
            if c == C::TOMBSTONE {
                self.free.get_or_insert(cell);
            } else if c.tag_bits() == self.tag {
                self.cell = (cell + 1) & self.mask;
                return Ok(c.pos());
            }
            cell = (cell + 1) & self.mask;
        }
    }
}

/// The index itself.
pub(crate) struct Index<C> {
    cells: Vec<C>,
    tombstones: usize,
}

impl<C: Cell> Index<C> {
    pub(crate) fn new() -> Self {
        Self {
            cells: vec![C::EMPTY; 8],
            tombstones: 0,
        }
    }

    /// The position of the entry with `hash` for which `is` holds, or where to insert one.
    #[inline(always)]
    pub(crate) fn find(
        &self,
        hash: u64,
        mut is: impl FnMut(usize) -> bool,
    ) -> Result<usize, Vacant> {
        let mut probe = self.probe(hash);
        loop {
            match probe.next_candidate() {
                Ok(pos) if is(pos) => return Ok(pos),
                Ok(_) => {}
                Err(vacant) => return Err(vacant),
            }
        }
    }

    /// The positions whose cells carry `hash`'s tag, in probing order, for a caller that
    /// compares keys in its own loop (a closure passed to [`find`](Self::find) is not always
    /// inlined).
    #[inline(always)]
    pub(crate) fn probe(&self, hash: u64) -> Probe<'_, C> {
        let mask = self.cells.len() - 1;
        Probe {
            cells: &self.cells,
            mask,
            tag: C::tag(hash),
            cell: hash as usize & mask,
            free: None,
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
        if self.cells[cell] == C::TOMBSTONE {
            self.tombstones -= 1;
        }
        self.cells[cell] = C::with_pos(C::tag(hash), pos);
        if (len + self.tombstones) * 4 > self.cells.len() * 3 {
            self.rebuild(len, hash_of);
        }
    }

    /// Forgets the entry with `hash` at `pos`.
    pub(crate) fn remove(&mut self, hash: u64, pos: usize) {
        let cell = self.cell_of(hash, pos);
        self.cells[cell] = C::TOMBSTONE;
        self.tombstones += 1;
    }

    /// Records that the entry with `hash` moved from `from` to `to`.
    pub(crate) fn moved(&mut self, hash: u64, from: usize, to: usize) {
        let cell = self.cell_of(hash, from);
        self.cells[cell] = C::with_pos(C::tag(hash), to);
    }

    /// Bytes the index occupies.
    pub(crate) fn bytes(&self) -> usize {
        self.cells.capacity() * size_of::<C>()
    }

    /// The cell naming the entry with `hash` at `pos`, which must be indexed.
    fn cell_of(&self, hash: u64, pos: usize) -> usize {
        let mask = self.cells.len() - 1;
        let named = C::with_pos(C::tag(hash), pos);
        let mut cell = hash as usize & mask;
        while self.cells[cell] != named {
            debug_assert!(self.cells[cell] != C::EMPTY, "entry {pos} is not indexed");
            cell = (cell + 1) & mask;
        }
        cell
    }

    /// Re-indexes `len` entries in a table at most half full, dropping tombstones.
    #[cold]
    fn rebuild(&mut self, len: usize, hash_of: impl Fn(usize) -> u64) {
        let size = (len * 2).next_power_of_two().max(8);
        let mask = size - 1;
        let mut cells = vec![C::EMPTY; size];
        for pos in 0..len {
            let hash = hash_of(pos);
            let mut cell = hash as usize & mask;
            while cells[cell] != C::EMPTY {
                cell = (cell + 1) & mask;
            }
            cells[cell] = C::with_pos(C::tag(hash), pos);
        }
        self.cells = cells;
        self.tombstones = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dense list of hashes, kept as the limiter's tables and the breaker registry keep their
    /// entries.
    struct List<C> {
        index: Index<C>,
        hashes: Vec<u64>,
    }

    impl<C: Cell> List<C> {
        fn new() -> Self {
            Self {
                index: Index::new(),
                hashes: Vec::new(),
            }
        }

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

    /// Inserts, removes and re-inserts 1,000 hashes that share low bits (so they probe through
    /// one another) and tag bits of both layouts (so keys are compared), checking every lookup.
    fn finds_what_was_inserted_through_growth_moves_and_removals<C: Cell>() {
        let mut list = List::<C>::new();
        let hash = |i: u64| (i << 40) | (i % 3) | ((i % 5) << 34) | ((i % 7) << 32);
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
        assert!(list.index.bytes() >= 1000 * size_of::<C>());
    }

    #[test]
    fn compact_cells_find_what_was_inserted() {
        finds_what_was_inserted_through_growth_moves_and_removals::<u32>();
    }

    #[test]
    fn wide_cells_find_what_was_inserted() {
        finds_what_was_inserted_through_growth_moves_and_removals::<u64>();
    }

    #[test]
    fn cells_round_trip_their_tag_and_position() {
        let hash = 0xdead_beef_1234_5678;
        let top = u32::MAX_ENTRIES - 1;
        for pos in [0, 1, top] {
            let c = u32::with_pos(u32::tag(hash), pos);
            assert_eq!((c.pos(), c.tag_bits()), (pos, u32::tag(hash)));
            assert!(c != u32::EMPTY && c != u32::TOMBSTONE);
        }
        let top = u64::MAX_ENTRIES - 1;
        for pos in [0, 1, top] {
            let c = u64::with_pos(u64::tag(hash), pos);
            assert_eq!((c.pos(), c.tag_bits()), (pos, u64::tag(hash)));
        }
        assert_eq!(u32::MAX_ENTRIES, (1 << 24) - 3);
    }

    #[test]
    fn removals_leave_tombstones_that_a_rebuild_drops() {
        let mut list = List::<u32>::new();
        for i in 0..5 {
            list.insert(i);
        }
        let cells = list.index.cells.len();
        for i in 0..5 {
            list.remove(i);
        }
        assert_eq!(list.index.tombstones, 5);
        // Re-inserting into tombstoned cells reuses them rather than growing.
        for i in 0..5 {
            list.insert(i);
        }
        assert_eq!((list.index.tombstones, list.index.cells.len()), (0, cells));
        for i in 5..7 {
            list.remove(i - 5);
            list.insert(i);
        }
        assert!((2..7).all(|i| list.find(i).is_ok()));
        assert!((0..2).all(|i| list.find(i).is_err()));
    }
}
