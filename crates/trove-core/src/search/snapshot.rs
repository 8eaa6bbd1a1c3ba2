//! The vector index's snapshot: a file next to the database holding the index exactly as
//! search uses it (chunk ids, sign bits, int8 codes and scales, f32 vectors), mapped read-only at the
//! next start instead of reading every vector out of SQLite again (2 s at 100k chunks, 13 s
//! at a million here). The ids, scales, sign bits and int8 codes are mapped (the scan reads them all);
//! the f32 vectors stay in the file and are read when a candidate is rescored (a few
//! hundred per search), so they take no memory.
//!
//! The file is a cache. It is used only when it was written for the same model, dimension,
//! `index_version` stamp and last chunk id as the database has now; anything else (an older
//! or newer library, a damaged or short file) is ignored, and the index is read from the
//! database and the file written again, beside the search, in the background. A new file
//! replaces the old by rename, so a file once mapped never changes under its map.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::vector::{words, Storage, VectorIndex};

/// The format's name and version: a file of another version (`TROVEVX1` had no sign bits)
/// is not used, and is replaced.
const MAGIC: &[u8; 8] = b"TROVEVX2";
/// Sections start at multiples of this (the map itself is page-aligned).
const ALIGN: usize = 64;
/// Below this many vectors the database reads fast enough: no file.
pub const MIN_VECTORS: usize = 20_000;

/// What the database says the index must be (checked against the file's header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub model: String,
    pub dims: usize,
    /// `index_version` (moves with every chunk or vector written or deleted).
    pub stamp: i64,
    /// The highest chunk id (chunk ids are never reused: a restored older copy of the
    /// database with the same stamp still differs here, as a rule).
    pub max_chunk: i64,
}

/// The snapshot of the database at `db`: `trove.db` → `trove.db.vectors`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".vectors");
    db.with_file_name(name)
}

fn pad(at: usize) -> usize {
    at.div_ceil(ALIGN) * ALIGN
}

/// The header: magic, dims (u32), 4 spare bytes, count (u64), stamp, max chunk id, chunks
/// in the library (i64 each), model id length (u32) and bytes. Then ids, scales, sign bits,
/// codes and vectors, each at a multiple of [`ALIGN`].
fn header(id: &Identity, n: usize, chunks: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(64 + id.model.len());
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&(id.dims as u32).to_le_bytes());
    h.extend_from_slice(&[0; 4]);
    h.extend_from_slice(&(n as u64).to_le_bytes());
    h.extend_from_slice(&id.stamp.to_le_bytes());
    h.extend_from_slice(&id.max_chunk.to_le_bytes());
    h.extend_from_slice(&(chunks as i64).to_le_bytes());
    h.extend_from_slice(&(id.model.len() as u32).to_le_bytes());
    h.extend_from_slice(id.model.as_bytes());
    h
}

/// Byte ranges of the five arrays after a header of `head` bytes.
fn layout(head: usize, n: usize, dims: usize) -> [Range<usize>; 5] {
    let ids = pad(head)..pad(head) + n * 8;
    let scales = pad(ids.end)..pad(ids.end) + n * 4;
    let bits = pad(scales.end)..pad(scales.end) + n * words(dims) * 8;
    let codes = pad(bits.end)..pad(bits.end) + n * dims;
    let data = pad(codes.end)..pad(codes.end) + n * dims * 4;
    [ids, scales, bits, codes, data]
}

/// Write `ix` (with the library's chunk count, for search's notices) as the snapshot at
/// `path`: to a temporary file beside it, synced, then renamed over it.
pub fn write(path: &Path, ix: &VectorIndex, id: &Identity, chunks: usize) -> std::io::Result<()> {
    let n = ix.len();
    let head = header(id, n, chunks);
    let [ids, scales, bits, codes, data] = layout(head.len(), n, id.dims);
    let tmp = path.with_extension(format!("vectors-{}.tmp", std::process::id()));
    remove_abandoned(path);
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut at = 0usize;
        let mut put = |w: &mut BufWriter<File>, start: usize, bytes: &[u8]| {
            w.write_all(&vec![0u8; start - at])?;
            w.write_all(bytes)?;
            at = start + bytes.len();
            Ok::<(), std::io::Error>(())
        };
        put(&mut w, 0, &head)?;
        put(&mut w, ids.start, bytemuck::cast_slice(ix.ids()))?;
        put(&mut w, scales.start, bytemuck::cast_slice(ix.scales()))?;
        put(&mut w, bits.start, bytemuck::cast_slice(ix.bits()))?;
        put(&mut w, codes.start, bytemuck::cast_slice(ix.codes()))?;
        // The vectors one by one: from memory, or from another snapshot's file.
        w.write_all(&vec![0u8; data.start - at])?;
        for i in 0..n {
            let v = ix.vector(i).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "a vector could not be read",
                )
            })?;
            w.write_all(bytemuck::cast_slice(&v))?;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Temporary files of writes a process did not finish (it was killed), an hour old or more.
fn remove_abandoned(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!("{}-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() >= 3600);
        if n.starts_with(&prefix) && n.ends_with(".tmp") && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The snapshot at `path` as an index, with the chunk count it was written with — if it
/// was written for exactly `want`. None when it is missing, for anything else, or not whole.
pub fn open(path: &Path, want: &Identity) -> Option<(VectorIndex, usize)> {
    let file = File::open(path).ok()?;
    // SAFETY: the file is only ever replaced by rename (`write`), never written in place,
    // so the mapped bytes do not change while mapped; a file edited by hand could only
    // change results (every bit pattern is a valid i64, f32 or i8), and its size is checked
    // below before any array is read.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let le = |r: Range<usize>| -> Option<[u8; 8]> { map.get(r)?.try_into().ok() };
    if map.get(0..8)? != MAGIC {
        return None;
    }
    let dims = u32::from_le_bytes(map.get(8..12)?.try_into().ok()?) as usize;
    let n = u64::from_le_bytes(le(16..24)?) as usize;
    let stamp = i64::from_le_bytes(le(24..32)?);
    let max_chunk = i64::from_le_bytes(le(32..40)?);
    let chunks = i64::from_le_bytes(le(40..48)?);
    let model_len = u32::from_le_bytes(map.get(48..52)?.try_into().ok()?) as usize;
    let model = std::str::from_utf8(map.get(52..52usize.checked_add(model_len)?)?).ok()?;
    let found = Identity {
        model: model.to_owned(),
        dims,
        stamp,
        max_chunk,
    };
    if &found != want || dims == 0 || chunks < 0 {
        return None;
    }
    let bytes = n.checked_mul(dims)?.checked_mul(4)?;
    if bytes > map.len() {
        return None;
    }
    let [ids, scales, bits, codes, data] = layout(52 + model_len, n, dims);
    if data.end != map.len() {
        return None;
    }
    // Alignment for the casts (the map starts on a page).
    bytemuck::try_cast_slice::<u8, i64>(&map[ids.clone()]).ok()?;
    bytemuck::try_cast_slice::<u8, f32>(&map[scales.clone()]).ok()?;
    bytemuck::try_cast_slice::<u8, u64>(&map[bits.clone()]).ok()?;

    let storage = Storage::Mapped {
        map,
        file,
        ids,
        scales,
        bits,
        codes,
        data,
    };
    Some((
        VectorIndex::from_storage(found.model, stamp, dims, storage),
        chunks as usize,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(n: usize, dims: usize) -> VectorIndex {
        let mut state = 0x9E3779B97F4A7C15u64;
        let mut data = Vec::with_capacity(n * dims);
        for _ in 0..n {
            let v: Vec<f32> = (0..dims)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            data.extend(v.iter().map(|x| x / norm));
        }
        // Chunk 7 has a window: its id twice.
        let ids = (0..n as i64).map(|i| if i == 8 { 7 } else { i }).collect();
        VectorIndex::new("local:m".into(), 42, dims, ids, data)
    }

    fn identity() -> Identity {
        Identity {
            model: "local:m".into(),
            dims: 24,
            stamp: 42,
            max_chunk: 999,
        }
    }

    #[test]
    fn a_snapshot_maps_back_to_the_same_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("trove.db"));
        assert_eq!(path.file_name().unwrap(), "trove.db.vectors");
        let ix = index(300, 24);
        write(&path, &ix, &identity(), 290).unwrap();
        let (mapped, chunks) = open(&path, &identity()).expect("the snapshot");
        assert!(mapped.is_mapped() && !ix.is_mapped());
        assert_eq!(chunks, 290);
        assert_eq!(mapped.len(), 300);
        assert_eq!(mapped.ids(), ix.ids());
        assert_eq!(mapped.codes(), ix.codes());
        assert_eq!(mapped.bits(), ix.bits());
        assert_eq!(mapped.vector_of(7), ix.vector_of(7));
        assert_eq!(mapped.vector(299), ix.vector(299));
        assert!(mapped.vector(300).is_none() && ix.vector(300).is_none());
        let q = ix.vector_of(123).unwrap().to_vec();
        assert_eq!(mapped.top_k(&q, 10), ix.top_k(&q, 10));
        assert_eq!(mapped.top_k(&q, 1)[0].0, 123);
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_snapshot_of_anything_else_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("trove.db"));
        assert!(open(&path, &identity()).is_none(), "no file");
        write(&path, &index(50, 24), &identity(), 50).unwrap();
        for other in [
            Identity {
                stamp: 43,
                ..identity()
            },
            Identity {
                max_chunk: 1000,
                ..identity()
            },
            Identity {
                model: "local:other".into(),
                ..identity()
            },
            Identity {
                dims: 12,
                ..identity()
            },
        ] {
            assert!(open(&path, &other).is_none(), "{other:?}");
        }
        assert!(open(&path, &identity()).is_some());
        // A file of the previous format (no sign bits).
        let whole = std::fs::read(&path).unwrap();
        let mut old = whole.clone();
        old[..8].copy_from_slice(b"TROVEVX1");
        std::fs::write(&path, &old).unwrap();
        assert!(open(&path, &identity()).is_none(), "version 1");
        std::fs::write(&path, &whole).unwrap();
        assert!(open(&path, &identity()).is_some());
        // Cut short, or not a snapshot at all.
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 4).unwrap();
        assert!(open(&path, &identity()).is_none(), "short");
        std::fs::write(&path, b"TROVEVX2 but nothing else").unwrap();
        assert!(open(&path, &identity()).is_none(), "garbage");
    }
}
