//! Maps: `RawMap` (bytes in, bytes out, one ABI call per operation) and the
//! typed views generated code makes of it, `TypedMap` and `PerCpuMap`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::mem::{size_of, MaybeUninit};
use std::ptr;

use crate::error::{Error, Result, EMISMATCH};
use crate::ffi;
use crate::object::{Need, Object};
use crate::pod::{self, Pod};

/// `update` flags: create or replace.
pub const BPF_ANY: u64 = 0;
/// `update` flags: create only (`EEXIST` if the key exists).
pub const BPF_NOEXIST: u64 = 1;
/// `update` flags: replace only (`ENOENT` if the key does not exist).
pub const BPF_EXIST: u64 = 2;
/// `update`/lookup flags: take the value's spin lock.
pub const BPF_F_LOCK: u64 = 4;

const ENOENT: c_int = 2;
const ENOSPC: i32 = 28;

/// What the kernel (libbpf) says of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// BPF_MAP_TYPE_*
    pub map_type: u32,
    pub key_size: usize,
    /// one value (one CPU's, for per-CPU maps)
    pub value_size: usize,
    pub max_entries: u32,
    pub flags: u32,
    /// -1 before load
    pub fd: i32,
    pub per_cpu: bool,
    /// bytes of the value buffer lookup/update take: value_size, or for
    /// per-CPU maps value_size rounded up to 8, times the possible CPUs
    pub value_buffer_size: usize,
}

/// A map with raw bytes. Made by `Object::map()`, after load.
pub struct RawMap<'a> {
    object: &'a Object,
    name: Cow<'a, CStr>,
    info: MapInfo,
}

impl<'a> RawMap<'a> {
    pub(crate) fn new(object: &'a Object, name: Cow<'a, CStr>) -> Result<RawMap<'a>> {
        let shown = name.to_string_lossy();
        let _g = object.require(Need::Loaded, &format_args!("map('{shown}')"))?;
        let mut i = ffi::coolbpf_map_info::default();
        // SAFETY: a live object; i is written on success.
        let r = unsafe { (object.api().map_info)(object.raw(), name.as_ptr(), &mut i) };
        if r < 0 {
            return Err(object.fail(r.into()));
        }
        let info = MapInfo {
            map_type: i.type_,
            key_size: i.key_size as usize,
            value_size: i.value_size as usize,
            max_entries: i.max_entries,
            flags: i.flags,
            fd: i.fd,
            per_cpu: i.per_cpu != 0,
            value_buffer_size: i.value_buffer_size as usize,
        };
        Ok(RawMap { object, name, info })
    }

    /// The map called `name` of a loaded object.
    pub fn of(object: &'a Object, name: &'static CStr) -> Result<RawMap<'a>> {
        object.map_static(name)
    }

    pub fn name(&self) -> &str {
        self.name.to_str().unwrap_or("?")
    }

    pub fn info(&self) -> MapInfo {
        self.info
    }

    /// The map's fd; it stays owned by the object.
    pub fn fd(&self) -> i32 {
        self.info.fd
    }

    pub fn object(&self) -> &'a Object {
        self.object
    }

    fn sized(&self, what: &str, got: usize, want: usize) -> Result<()> {
        if got != want {
            return Err(Error::invalid(format!(
                "map '{}': {what} is {got} bytes, the map needs {want}",
                self.name()
            )));
        }
        Ok(())
    }

    /// Copies the value of `key` into `value` (exactly `value_buffer_size`
    /// bytes); `false` when there is no such key.
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<bool> {
        self.sized("the key", key.len(), self.info.key_size)?;
        self.sized("the value buffer", value.len(), self.info.value_buffer_size)?;
        // SAFETY: both buffers have the sizes the map reads and writes.
        unsafe { self.lookup_ptr(key.as_ptr(), value.as_mut_ptr(), value.len(), flags) }
    }

    /// # Safety
    /// `key` must point to key_size readable bytes, `value` to `size` (the
    /// value buffer size) writable ones.
    pub(crate) unsafe fn lookup_ptr(
        &self,
        key: *const u8,
        value: *mut u8,
        size: usize,
        flags: u64,
    ) -> Result<bool> {
        let r = (self.object.api().map_lookup)(
            self.object.raw(),
            self.name.as_ptr(),
            key.cast(),
            value.cast(),
            size,
            flags,
        );
        match r {
            0 => Ok(true),
            r if r == -ENOENT => Ok(false),
            r => Err(self.object.fail(r.into())),
        }
    }

    /// flags: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.sized("the key", key.len(), self.info.key_size)?;
        self.sized("the value", value.len(), self.info.value_buffer_size)?;
        // SAFETY: both buffers have the sizes the map reads.
        unsafe { self.update_ptr(key.as_ptr(), value.as_ptr(), value.len(), flags) }
    }

    /// # Safety
    /// `key` must point to key_size readable bytes, `value` to `size` ones.
    pub(crate) unsafe fn update_ptr(
        &self,
        key: *const u8,
        value: *const u8,
        size: usize,
        flags: u64,
    ) -> Result<()> {
        let r = (self.object.api().map_update)(
            self.object.raw(),
            self.name.as_ptr(),
            key.cast(),
            value.cast(),
            size,
            flags,
        );
        if r < 0 {
            return Err(self.object.fail(r.into()));
        }
        Ok(())
    }

    /// `false` when there is no such key (array maps cannot delete: `EINVAL`).
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.sized("the key", key.len(), self.info.key_size)?;
        // SAFETY: the key has the map's key size.
        unsafe { self.delete_ptr(key.as_ptr()) }
    }

    /// # Safety
    /// `key` must point to key_size readable bytes.
    pub(crate) unsafe fn delete_ptr(&self, key: *const u8) -> Result<bool> {
        let r = (self.object.api().map_delete)(self.object.raw(), self.name.as_ptr(), key.cast());
        match r {
            0 => Ok(true),
            r if r == -ENOENT => Ok(false),
            r => Err(self.object.fail(r.into())),
        }
    }

    /// The key after `key` (None: the first) into `next`; `false` when there are no more.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        if let Some(k) = key {
            self.sized("the key", k.len(), self.info.key_size)?;
        }
        self.sized("the next key buffer", next.len(), self.info.key_size)?;
        let kp = key.map_or(ptr::null(), |k| k.as_ptr());
        // SAFETY: the buffers have the map's key size.
        let r = unsafe {
            (self.object.api().map_next_key)(
                self.object.raw(),
                self.name.as_ptr(),
                kp.cast(),
                next.as_mut_ptr().cast(),
            )
        };
        match r {
            0 => Ok(true),
            r if r == -ENOENT => Ok(false),
            r => Err(self.object.fail(r.into())),
        }
    }

    /// BPF_MAP_LOOKUP_BATCH: up to `count` entries after `cursor` (None:
    /// from the start) into `keys` (count × key_size bytes) and `values`
    /// (count × value_buffer_size); `next_cursor` (max(key_size, 8) bytes)
    /// receives the cursor for the next call. Returns the entries read and
    /// whether this was the last batch, or None when the kernel or the map
    /// type has no batch operations. A hash bucket larger than `count` is
    /// `ENOSPC` (call again with a larger count).
    pub fn lookup_batch(
        &self,
        cursor: Option<&[u8]>,
        next_cursor: &mut [u8],
        keys: &mut [u8],
        values: &mut [u8],
        count: u32,
    ) -> Result<Option<(u32, bool)>> {
        let cs = self.info.key_size.max(8);
        let n = count as usize;
        if cursor.is_some_and(|c| c.len() < cs)
            || next_cursor.len() < cs
            || keys.len() < n * self.info.key_size
            || values.len() < n * self.info.value_buffer_size
        {
            return Err(Error::invalid(format!(
                "map '{}': lookup_batch: a buffer is too small for {count} entries",
                self.name()
            )));
        }
        let mut c = count;
        let cp = cursor.map_or(ptr::null(), |c| c.as_ptr());
        // SAFETY: every buffer is large enough for `count` entries.
        let r = unsafe {
            (self.object.api().map_lookup_batch)(
                self.object.raw(),
                self.name.as_ptr(),
                cp.cast(),
                next_cursor.as_mut_ptr().cast(),
                keys.as_mut_ptr().cast(),
                values.as_mut_ptr().cast(),
                &mut c,
            )
        };
        match r {
            0 => Ok(Some((c, false))),
            1 => Ok(Some((c, true))),
            -95 => Ok(None),
            r => Err(self.object.fail(r.into())),
        }
    }
}

impl std::fmt::Debug for RawMap<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawMap")
            .field("name", &self.name())
            .field("info", &self.info)
            .finish()
    }
}

/// How an iteration walks a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IterMode {
    /// BPF_MAP_LOOKUP_BATCH where the kernel has it for the map type (256
    /// entries per system call), else next_key (the default)
    Batch,
    /// next_key + lookup, one entry at a time
    NextKey,
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Walks a map's entries: batch lookup where the kernel has it for the map
/// type, next_key (plus a lookup for the value) otherwise.
///
/// While the map changes (by BPF, or by the loop's own set/delete): the walk
/// always ends and yields no key twice; an entry present for the whole walk
/// is yielded once, entries added or deleted meanwhile may or may not be;
/// batch values are as of their batch's read, next_key values as of when
/// their key is reached; deleting the entry just yielded is safe.
struct Cursor<'m> {
    raw: &'m RawMap<'m>,
    values: bool,
    mode: IterMode,
    done: bool,
    // batch mode
    count: usize,
    keys: Vec<u8>,
    vals: Vec<u8>,
    cursor_in: Vec<u8>,
    cursor_out: Vec<u8>,
    started: bool,
    last: bool,
    n: usize,
    i: usize,
    batches: u32,
    // next_key mode
    k: [Vec<u8>; 2],
    cur: usize,
    pending: bool,
    seen: HashSet<Vec<u8>>,
    steps: usize,
    next_keys: u32,
}

impl<'m> Cursor<'m> {
    fn new(raw: &'m RawMap<'m>, values: bool, mode: IterMode) -> Cursor<'m> {
        let info = raw.info;
        let count = (info.max_entries as usize).clamp(1, 256);
        let cs = info.key_size.max(8);
        let mut c = Cursor {
            raw,
            values,
            mode,
            done: false,
            count,
            keys: Vec::new(),
            vals: Vec::new(),
            cursor_in: vec![0; cs],
            cursor_out: vec![0; cs],
            started: false,
            last: false,
            n: 0,
            i: 0,
            batches: 0,
            k: [Vec::new(), Vec::new()],
            cur: 0,
            pending: false,
            seen: HashSet::new(),
            steps: 0,
            next_keys: 0,
        };
        if mode == IterMode::Batch {
            c.grow(count);
        }
        c
    }

    fn grow(&mut self, count: usize) {
        self.count = count;
        self.keys = vec![0; (count * self.raw.info.key_size).max(1)];
        self.vals = vec![0; (count * self.raw.info.value_buffer_size).max(1)];
    }

    /// The next entry's key and value bytes (value empty when not asked for).
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        loop {
            if self.done {
                return Ok(None);
            }
            match self.mode {
                IterMode::Batch => {
                    if self.i < self.n {
                        let (ks, vs) = (self.raw.info.key_size, self.raw.info.value_buffer_size);
                        let i = self.i;
                        self.i += 1;
                        return Ok(Some((
                            &self.keys[i * ks..(i + 1) * ks],
                            &self.vals[i * vs..(i + 1) * vs],
                        )));
                    }
                    if self.last {
                        self.done = true;
                        return Ok(None);
                    }
                    self.fetch_batch()?;
                }
                IterMode::NextKey => return self.next_key(),
            }
        }
    }

    fn fetch_batch(&mut self) -> Result<()> {
        let max = (self.raw.info.max_entries as usize).max(1) * 2;
        let mut guard = 0;
        loop {
            guard += 1;
            self.batches += 1;
            let cursor = if self.started {
                Some(&self.cursor_in[..])
            } else {
                None
            };
            let r = self.raw.lookup_batch(
                cursor,
                &mut self.cursor_out,
                &mut self.keys,
                &mut self.vals,
                self.count as u32,
            );
            let r = match r {
                // a hash bucket larger than the batch: retry with room for it
                Err(e) if e.errno() == ENOSPC && self.count < max => {
                    self.grow(self.count * 2);
                    continue;
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
                Ok(r) => r,
            };
            let Some((n, last)) = r else {
                if self.started {
                    self.done = true;
                    return Err(Error::from_errno(
                        95,
                        format!(
                            "map '{}': batch lookup stopped working mid-walk",
                            self.raw.name()
                        ),
                    ));
                }
                self.batches -= 1;
                self.start_next_key()?;
                return Ok(());
            };
            self.started = true;
            std::mem::swap(&mut self.cursor_in, &mut self.cursor_out);
            self.n = n as usize;
            self.i = 0;
            self.last = last;
            if n > 0 || last || guard > 1024 {
                if n == 0 && !last {
                    self.last = true; // the kernel made no progress: stop rather than spin
                }
                return Ok(());
            }
        }
    }

    fn start_next_key(&mut self) -> Result<()> {
        self.mode = IterMode::NextKey;
        let ks = self.raw.info.key_size;
        self.k = [vec![0; ks], vec![0; ks]];
        self.vals = vec![0; self.raw.info.value_buffer_size];
        self.keys = Vec::new();
        self.cur = 0;
        self.next_keys += 1;
        let [a, _] = &mut self.k;
        self.pending = self.raw.next_key(None, a)?;
        Ok(())
    }

    fn next_key(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        if self.k[0].len() != self.raw.info.key_size {
            self.start_next_key()?;
        }
        // bounded even if the map churns so that next_key keeps restarting
        let limit = 4 * (self.raw.info.max_entries as usize).max(1) + 64;
        while self.pending {
            self.steps += 1;
            if self.steps > limit {
                break;
            }
            let cur = self.cur;
            let other = 1 - cur;
            // read the following key first, so deleting this one does not lose our place
            let (a, b) = self.k.split_at_mut(1);
            let (key, next) = if cur == 0 {
                (&a[0], &mut b[0])
            } else {
                (&b[0], &mut a[0])
            };
            self.next_keys += 1;
            self.pending = self.raw.next_key(Some(key), next)?;
            self.cur = other;
            if self.seen.contains(&self.k[cur]) {
                continue;
            }
            if self.values && !self.raw.lookup(&self.k[cur], &mut self.vals, 0)? {
                continue; // deleted meanwhile
            }
            self.seen.insert(self.k[cur].clone());
            return Ok(Some((
                &self.k[cur],
                if self.values { &self.vals[..] } else { &[] },
            )));
        }
        self.done = true;
        self.seen.clear();
        Ok(None)
    }
}

fn check_sizes(
    raw: &RawMap<'_>,
    kind: &str,
    key: usize,
    value: usize,
    per_cpu: bool,
) -> Result<()> {
    let i = raw.info;
    if i.per_cpu != per_cpu {
        return Err(Error::new(
            EMISMATCH,
            format!(
                "{kind} '{}': it is {}",
                raw.name(),
                if i.per_cpu {
                    "a per-CPU map: use PerCpuMap"
                } else {
                    "not a per-CPU map: use TypedMap"
                }
            ),
        ));
    }
    if key != i.key_size {
        return Err(Error::new(
            EMISMATCH,
            format!(
                "{kind} '{}': the key type is {key} bytes, the map's keys are {}",
                raw.name(),
                i.key_size
            ),
        ));
    }
    if value != i.value_size {
        return Err(Error::new(
            EMISMATCH,
            format!(
                "{kind} '{}': the value type is {value} bytes, the map's values are {}",
                raw.name(),
                i.value_size
            ),
        ));
    }
    Ok(())
}

/// Typed view of a map: keys `K`, values `V` (generated code makes one per map).
pub struct TypedMap<'a, K, V> {
    raw: RawMap<'a>,
    _t: PhantomData<fn(K) -> V>,
}

impl<'a, K: Pod, V: Pod> TypedMap<'a, K, V> {
    /// `EMISMATCH` when the types' sizes are not the map's (or it is per-CPU).
    pub fn new(raw: RawMap<'a>) -> Result<TypedMap<'a, K, V>> {
        check_sizes(&raw, "TypedMap", size_of::<K>(), size_of::<V>(), false)?;
        Ok(TypedMap {
            raw,
            _t: PhantomData,
        })
    }

    /// The map called `name` of a loaded object, typed.
    pub fn of(object: &'a Object, name: &'static CStr) -> Result<TypedMap<'a, K, V>> {
        TypedMap::new(object.map_static(name)?)
    }

    pub fn raw(&self) -> &RawMap<'a> {
        &self.raw
    }

    pub fn info(&self) -> MapInfo {
        self.raw.info
    }

    /// The value of `key`, or None when there is no such key.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        self.get_flags(key, 0)
    }

    /// `get` with lookup flags (`BPF_F_LOCK`).
    pub fn get_flags(&self, key: &K, flags: u64) -> Result<Option<V>> {
        let mut v = MaybeUninit::<V>::uninit();
        // SAFETY: sizes checked in new(); the kernel fills all of V on success.
        unsafe {
            if self.raw.lookup_ptr(
                (key as *const K).cast(),
                v.as_mut_ptr().cast(),
                size_of::<V>(),
                flags,
            )? {
                Ok(Some(v.assume_init()))
            } else {
                Ok(None)
            }
        }
    }

    /// Creates or replaces (`BPF_ANY`).
    pub fn set(&self, key: &K, value: &V) -> Result<()> {
        self.update(key, value, BPF_ANY)
    }

    /// flags: `BPF_ANY`, `BPF_NOEXIST` (`EEXIST` if present), `BPF_EXIST` (`ENOENT` if absent), `BPF_F_LOCK`
    pub fn update(&self, key: &K, value: &V, flags: u64) -> Result<()> {
        // SAFETY: sizes checked in new().
        unsafe {
            self.raw.update_ptr(
                (key as *const K).cast(),
                (value as *const V).cast(),
                size_of::<V>(),
                flags,
            )
        }
    }

    /// `false` when there is no such key (array maps cannot delete: `EINVAL`).
    pub fn delete(&self, key: &K) -> Result<bool> {
        // SAFETY: sizes checked in new().
        unsafe { self.raw.delete_ptr((key as *const K).cast()) }
    }

    pub fn contains(&self, key: &K) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    /// Every entry (see [`IterMode`] and the walk's guarantees on `MapIter`).
    pub fn iter(&self) -> MapIter<'_, K, V> {
        self.iter_with(IterMode::Batch)
    }

    pub fn iter_with(&self, mode: IterMode) -> MapIter<'_, K, V> {
        MapIter {
            cursor: Cursor::new(&self.raw, true, mode),
            decode: decode_one::<V>,
            _k: PhantomData,
        }
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        KeyIter::<K> {
            cursor: Cursor::new(&self.raw, false, IterMode::Batch),
            _k: PhantomData,
        }
    }

    /// Every value.
    pub fn values(&self) -> impl Iterator<Item = Result<V>> + '_ {
        self.iter().map(|r| r.map(|(_, v)| v))
    }
}

fn decode_one<V: Pod>(b: &[u8], _cpus: usize) -> V {
    pod::read_at(b, 0)
}

fn decode_per_cpu<V: Pod>(b: &[u8], cpus: usize) -> Vec<V> {
    let slot = align8(size_of::<V>());
    (0..cpus).map(|i| pod::read_at(b, i * slot)).collect()
}

/// The entries of a map: `Result<(K, V)>` (`V` is `Vec<V>` for per-CPU maps).
/// Reads 256 entries per system call with batch lookup where it can.
pub struct MapIter<'m, K, V> {
    cursor: Cursor<'m>,
    decode: fn(&[u8], usize) -> V,
    _k: PhantomData<K>,
}

impl<K, V> MapIter<'_, K, V> {
    /// How the walk reads the map now (`NextKey` once it fell back to it).
    pub fn mode(&self) -> IterMode {
        self.cursor.mode
    }

    /// BPF_MAP_LOOKUP_BATCH calls made so far.
    pub fn batch_calls(&self) -> u32 {
        self.cursor.batches
    }

    /// next_key calls made so far.
    pub fn next_key_calls(&self) -> u32 {
        self.cursor.next_keys
    }
}

impl<K: Pod, V> Iterator for MapIter<'_, K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Result<(K, V)>> {
        let cpus =
            self.cursor.raw.info.value_buffer_size / align8(self.cursor.raw.info.value_size.max(1));
        let decode = self.decode;
        match self.cursor.next() {
            Ok(Some((k, v))) => Some(Ok((pod::read_at(k, 0), decode(v, cpus)))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

struct KeyIter<'m, K> {
    cursor: Cursor<'m>,
    _k: PhantomData<K>,
}

impl<K: Pod> Iterator for KeyIter<'_, K> {
    type Item = Result<K>;

    fn next(&mut self) -> Option<Result<K>> {
        match self.cursor.next() {
            Ok(Some((k, _))) => Some(Ok(pod::read_at(k, 0))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A per-CPU map: values are one per possible CPU (index = CPU number), in
/// 8-byte aligned slots.
pub struct PerCpuMap<'a, K, V> {
    raw: RawMap<'a>,
    cpus: usize,
    buf: std::cell::RefCell<Vec<u8>>,
    _t: PhantomData<fn(K) -> V>,
}

impl<'a, K: Pod, V: Pod> PerCpuMap<'a, K, V> {
    /// `EMISMATCH` when the types' sizes are not the map's (or it is not per-CPU).
    pub fn new(raw: RawMap<'a>) -> Result<PerCpuMap<'a, K, V>> {
        check_sizes(&raw, "PerCpuMap", size_of::<K>(), size_of::<V>(), true)?;
        let cpus = raw.info.value_buffer_size / align8(size_of::<V>().max(1));
        let buf = std::cell::RefCell::new(vec![0; raw.info.value_buffer_size]);
        Ok(PerCpuMap {
            raw,
            cpus,
            buf,
            _t: PhantomData,
        })
    }

    /// The map called `name` of a loaded object, typed.
    pub fn of(object: &'a Object, name: &'static CStr) -> Result<PerCpuMap<'a, K, V>> {
        PerCpuMap::new(object.map_static(name)?)
    }

    pub fn raw(&self) -> &RawMap<'a> {
        &self.raw
    }

    pub fn info(&self) -> MapInfo {
        self.raw.info
    }

    /// Possible CPUs: the length of every value.
    pub fn cpus(&self) -> usize {
        self.cpus
    }

    /// One value per possible CPU, or None when there is no such key.
    pub fn get(&self, key: &K) -> Result<Option<Vec<V>>> {
        self.get_flags(key, 0)
    }

    pub fn get_flags(&self, key: &K, flags: u64) -> Result<Option<Vec<V>>> {
        let mut b = self.buf.borrow_mut();
        // SAFETY: key size checked in new(); the buffer is value_buffer_size bytes.
        let found = unsafe {
            self.raw
                .lookup_ptr((key as *const K).cast(), b.as_mut_ptr(), b.len(), flags)?
        };
        Ok(found.then(|| decode_per_cpu(&b, self.cpus)))
    }

    /// Creates or replaces; `values` has one value per possible CPU (`EINVAL` otherwise).
    pub fn set(&self, key: &K, values: &[V]) -> Result<()> {
        self.update(key, values, BPF_ANY)
    }

    pub fn update(&self, key: &K, values: &[V], flags: u64) -> Result<()> {
        if values.len() != self.cpus {
            return Err(Error::invalid(format!(
                "PerCpuMap '{}': expected {} values (one per possible CPU), got {}",
                self.raw.name(),
                self.cpus,
                values.len()
            )));
        }
        let mut b = self.buf.borrow_mut();
        b.fill(0);
        let slot = align8(size_of::<V>());
        for (i, v) in values.iter().enumerate() {
            pod::write_at(&mut b, i * slot, *v);
        }
        // SAFETY: key size checked in new(); the buffer is value_buffer_size bytes.
        unsafe {
            self.raw
                .update_ptr((key as *const K).cast(), b.as_ptr(), b.len(), flags)
        }
    }

    pub fn delete(&self, key: &K) -> Result<bool> {
        // SAFETY: key size checked in new().
        unsafe { self.raw.delete_ptr((key as *const K).cast()) }
    }

    pub fn contains(&self, key: &K) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    pub fn iter(&self) -> MapIter<'_, K, Vec<V>> {
        self.iter_with(IterMode::Batch)
    }

    pub fn iter_with(&self, mode: IterMode) -> MapIter<'_, K, Vec<V>> {
        MapIter {
            cursor: Cursor::new(&self.raw, true, mode),
            decode: decode_per_cpu::<V>,
            _k: PhantomData,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        KeyIter::<K> {
            cursor: Cursor::new(&self.raw, false, IterMode::Batch),
            _k: PhantomData,
        }
    }

    pub fn values(&self) -> impl Iterator<Item = Result<Vec<V>>> + '_ {
        self.iter().map(|r| r.map(|(_, v)| v))
    }
}
