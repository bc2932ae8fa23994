//! Columns: a slice of plain-old-data values that is either owned (built by
//! ingest) or borrowed from a memory-mapped store file (opened without a
//! parse step). Both deref to `&[T]`, so no reader knows the difference.

use bytemuck::Pod;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A shared read-only memory map of a store file.
pub type Map = Arc<memmap2::Mmap>;

pub enum Column<T: Pod> {
    Owned(Vec<T>),
    /// `len` values of `T` at byte `offset` of the map; alignment and bounds
    /// are checked when the column is made (`Column::mapped`).
    Mapped {
        map: Map,
        offset: usize,
        len: usize,
    },
}

impl<T: Pod> Column<T> {
    /// A column over `len` values at `offset` of `map`, or `None` when they do
    /// not fit or are misaligned.
    pub fn mapped(map: &Map, offset: usize, len: usize) -> Option<Column<T>> {
        let bytes = len.checked_mul(std::mem::size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        let slice = map.get(offset..end)?;
        bytemuck::try_cast_slice::<u8, T>(slice).ok()?;
        Some(Column::Mapped {
            map: map.clone(),
            offset,
            len,
        })
    }

    pub fn as_slice(&self) -> &[T] {
        match self {
            Column::Owned(v) => v,
            Column::Mapped { map, offset, len } => {
                let bytes = &map[*offset..*offset + *len * std::mem::size_of::<T>()];
                // checked in `mapped`: in bounds and aligned
                bytemuck::cast_slice(bytes)
            }
        }
    }

    pub fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self.as_slice())
    }
}

impl<T: Pod> Default for Column<T> {
    fn default() -> Self {
        Column::Owned(Vec::new())
    }
}

impl<T: Pod> Deref for Column<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Pod> From<Vec<T>> for Column<T> {
    fn from(v: Vec<T>) -> Self {
        Column::Owned(v)
    }
}

impl<T: Pod> Clone for Column<T> {
    fn clone(&self) -> Self {
        match self {
            Column::Owned(v) => Column::Owned(v.clone()),
            Column::Mapped { map, offset, len } => Column::Mapped {
                map: map.clone(),
                offset: *offset,
                len: *len,
            },
        }
    }
}

impl<T: Pod + PartialEq> PartialEq for Column<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Pod + Eq> Eq for Column<T> {}

impl<T: Pod + fmt::Debug> fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

/// A table of strings: `offsets` (one more than the count, starting at 0)
/// into the concatenated UTF-8 `bytes`.
///
/// Every string of a table is valid UTF-8: the safe constructor copies
/// `&str`s, and the unchecked one is only used where that was made sure of
/// (the ingest writes whole strings; a store's tables are checked when it is
/// opened). So [`get`](Self::get) does not check them again, which matters
/// where a report names a few million addresses and transactions.
#[derive(Clone, PartialEq, Eq)]
pub struct StringTable {
    offsets: Column<u64>,
    bytes: Column<u8>,
}

impl Default for StringTable {
    fn default() -> Self {
        StringTable {
            offsets: Column::Owned(vec![0]),
            bytes: Column::default(),
        }
    }
}

impl StringTable {
    /// A table of `strings`, in order.
    pub fn from_strs<'s>(strings: impl IntoIterator<Item = &'s str>) -> Self {
        let (mut offsets, mut bytes) = (vec![0u64], Vec::new());
        for s in strings {
            bytes.extend_from_slice(s.as_bytes());
            offsets.push(bytes.len() as u64);
        }
        StringTable {
            offsets: offsets.into(),
            bytes: bytes.into(),
        }
    }

    /// A table over `offsets` and `bytes` as they are.
    ///
    /// # Safety
    ///
    /// Each string, `bytes[offsets[i]..offsets[i + 1]]` wherever that range
    /// is within `bytes`, must be valid UTF-8: [`get`](Self::get) hands it
    /// out as `&str` without checking.
    pub unsafe fn from_parts_unchecked(offsets: Column<u64>, bytes: Column<u8>) -> Self {
        StringTable { offsets, bytes }
    }

    /// The offsets: one more than the strings, from 0.
    pub fn offsets(&self) -> &Column<u64> {
        &self.offsets
    }

    /// The strings' bytes, one after another.
    pub fn bytes(&self) -> &Column<u8> {
        &self.bytes
    }

    /// The columns to spoil, for the tests of what a damaged store reports.
    /// A table changed so is written out, never read.
    #[cfg(test)]
    pub(crate) fn columns_mut(&mut self) -> (&mut Column<u64>, &mut Column<u8>) {
        (&mut self.offsets, &mut self.bytes)
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th string; `""` when `i` or its offsets are out of range.
    pub fn get(&self, i: usize) -> &str {
        let next = i.checked_add(1).and_then(|j| self.offsets.get(j));
        let (Some(&a), Some(&b)) = (self.offsets.get(i), next) else {
            return "";
        };
        match self.bytes.get(a as usize..b as usize) {
            // SAFETY: every string of a table is UTF-8 (see the constructors)
            Some(s) => unsafe { std::str::from_utf8_unchecked(s) },
            None => "",
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Index of `s` in a table sorted in byte order.
    pub fn binary_search(&self, s: &str) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(s) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }
}

impl fmt::Debug for StringTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Pod> IntoIterator for &'a Column<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_strings_gives_them_back_and_empty_past_the_end() {
        let words = ["0xab", "", "bc1qé", "0x00ff"];
        let t = StringTable::from_strs(words);
        assert_eq!(t.len(), 4);
        assert_eq!(t.iter().collect::<Vec<_>>(), words);
        assert_eq!(t.offsets().as_slice(), &[0, 4, 4, 10, 16]);
        assert_eq!(t.get(4), "");
        assert_eq!(t.get(usize::MAX), "");
        assert!(StringTable::from_strs([]).is_empty());
        assert_eq!(StringTable::from_strs([]), StringTable::default());
    }
}
