//! The read-only CSR snapshot of one graph generation (daemon/graph/csr.ts), read in place:
//! the slices point into the SharedArrayBuffer the host built, which the boundary keeps alive
//! (one reference per typed array) until another snapshot is attached. Nothing here writes to
//! it, and nothing hands out a mutable slice.

use std::slice;

/// Raw parts of one typed array: where its elements start and how many there are.
#[derive(Clone, Copy)]
pub(crate) struct Raw<T> {
    pub ptr: *const T,
    pub len: usize,
}

impl<T> Raw<T> {
    fn get(&self) -> &[T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr/len come from napi_get_typedarray_info on an array the boundary holds a
        // reference to for as long as this snapshot is attached; a SharedArrayBuffer cannot be
        // detached, and the host never writes to a generation's snapshot once built.
        unsafe { slice::from_raw_parts(self.ptr, self.len) }
    }
}

pub(crate) struct Parts {
    pub entity_kinds: Raw<u8>,
    pub files: Raw<u32>,
    pub out_offsets: Raw<u32>,
    pub out_targets: Raw<u32>,
    pub out_kinds: Raw<u8>,
    pub in_offsets: Raw<u32>,
    pub in_sources: Raw<u32>,
    pub in_kinds: Raw<u8>,
    pub key_offsets: Raw<u32>,
    pub key_bytes: Raw<u8>,
}

/// Read-only slices of the snapshot's typed arrays (daemon/graph/csr.ts documents each).
macro_rules! slices {
    ($($name:ident: $t:ty),* $(,)?) => {
        impl Snapshot {
            $(pub fn $name(&self) -> &[$t] {
                self.parts.$name.get()
            })*
        }
    };
}

slices!(
    entity_kinds: u8,
    files: u32,
    out_offsets: u32,
    out_targets: u32,
    out_kinds: u8,
    in_offsets: u32,
    in_sources: u32,
    in_kinds: u8,
    key_offsets: u32,
    key_bytes: u8,
);

pub struct Snapshot {
    pub generation: f64,
    pub node_count: usize,
    pub edge_count: usize,
    pub(crate) parts: Parts,
    pub(crate) file_table: Vec<String>,
    pub(crate) entity_kind_names: Vec<String>,
    pub(crate) edge_kind_names: Vec<String>,
    pub(crate) inferred_bit: u8,
    pub(crate) dead_kind: u8,
}

impl Snapshot {
    /// The snapshot, if it has the shape the host promises.
    pub(crate) fn checked(self) -> Result<Snapshot, String> {
        self.check_shape()?;
        Ok(self)
    }

    /// The lengths the host promises; anything else means the snapshot is not what this ABI
    /// version reads. (Out-of-range contents cannot cause harm: every read is bounds-checked.)
    fn check_shape(&self) -> Result<(), String> {
        let p = &self.parts;
        let (n, e) = (self.node_count, self.edge_count);
        let expect = [
            ("entityKinds", p.entity_kinds.len, n),
            ("files", p.files.len, n),
            ("outOffsets", p.out_offsets.len, n + 1),
            ("outTargets", p.out_targets.len, e),
            ("outKinds", p.out_kinds.len, e),
            ("inOffsets", p.in_offsets.len, n + 1),
            ("inSources", p.in_sources.len, e),
            ("inKinds", p.in_kinds.len, e),
            ("keyOffsets", p.key_offsets.len, n + 1),
        ];
        for (name, got, want) in expect {
            if got != want {
                return Err(format!("snapshot array {name} has {got} elements, expected {want} (nodeCount {n}, edgeCount {e})"));
            }
        }
        let ends = [("outOffsets", self.out_offsets()[n] as usize, e), ("inOffsets", self.in_offsets()[n] as usize, e), ("keyOffsets", self.key_offsets()[n] as usize, p.key_bytes.len)];
        for (name, got, want) in ends {
            if got != want {
                return Err(format!("snapshot array {name} ends at {got}, expected {want}"));
            }
        }
        Ok(())
    }

    /// False for ids not in use in this generation.
    pub fn is_alive(&self, id: usize) -> bool {
        self.entity_kinds()[id] != self.dead_kind
    }

    /// The entity id string (`path#Qualified.Name`).
    pub fn key(&self, id: usize) -> &str {
        let o = self.key_offsets();
        std::str::from_utf8(&self.key_bytes()[o[id] as usize..o[id + 1] as usize]).unwrap_or("")
    }

    /// The file (relative to the root) of entity `id`.
    pub fn file(&self, id: usize) -> &str {
        &self.file_table[self.files()[id] as usize]
    }

    /// The file table: `files()[id]` indexes it.
    pub fn file_table(&self) -> &[String] {
        &self.file_table
    }

    /// Kind names in code order (`entity_kinds()[id]` indexes them), from the host.
    pub fn entity_kind_names(&self) -> &[String] {
        &self.entity_kind_names
    }

    /// Edge kind names in code order (an edge's kind code, less the inferred bit, indexes them).
    pub fn edge_kind_names(&self) -> &[String] {
        &self.edge_kind_names
    }

    /// The bit of an edge kind code marking a name-matched (inferred) edge.
    pub fn inferred_bit(&self) -> u8 {
        self.inferred_bit
    }
}

/// Which edges an algorithm follows: a set of edge kinds, with or without the name-matched ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EdgeFilter {
    mask: u64,
    inferred: bool,
    inferred_bit: u8,
}

impl EdgeFilter {
    /// Edges of the kinds named (names from [`Snapshot::edge_kind_names`]).
    pub fn new(snapshot: &Snapshot, kinds: &[String], inferred: bool) -> EdgeFilter {
        let mask = snapshot.edge_kind_names().iter().enumerate().filter(|(_, name)| kinds.contains(name)).fold(0u64, |m, (code, _)| m | 1 << code);
        EdgeFilter { mask, inferred, inferred_bit: snapshot.inferred_bit() }
    }

    pub fn admits(&self, code: u8) -> bool {
        let inferred = code & self.inferred_bit != 0;
        let kind = code & !self.inferred_bit;
        (self.inferred || !inferred) && kind < 64 && self.mask & (1 << kind) != 0
    }
}
