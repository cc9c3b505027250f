//! Live views of data sections: the memory `coolbpf_data()` gives, without
//! copies or system calls. Before load the object's initial image, after
//! load the kernel's memory-mapped map (shared with BPF programs: every read
//! and write is volatile, one load or store for aligned scalars, so a
//! counter BPF updates atomically is never torn).
//!
//! A view borrows its object, so the object cannot be destroyed while the
//! view is alive; `ReadOnly` views have no setters (`.rodata` after load).

use std::marker::PhantomData;
use std::mem::{align_of, size_of, MaybeUninit};
use std::ptr;

use crate::error::{Error, Result};
use crate::object::Object;
use crate::pod::Pod;

/// Marker of a view that only reads.
#[derive(Debug)]
pub enum ReadOnly {}
/// Marker of a view that reads and writes.
#[derive(Debug)]
pub enum ReadWrite {}

/// A data section's bytes, borrowed from its object.
pub struct Section<'a, A = ReadOnly> {
    ptr: *mut u8,
    len: usize,
    name: String,
    _object: PhantomData<&'a Object>,
    _access: PhantomData<A>,
}

impl<'a, A> Section<'a, A> {
    /// # Safety
    /// `ptr` must point to `len` bytes that stay mapped (and writable for a
    /// `ReadWrite` view) for `'a`.
    pub(crate) unsafe fn new(ptr: *mut u8, len: usize, name: &str) -> Section<'a, A> {
        Section {
            ptr,
            len,
            name: name.to_string(),
            _object: PhantomData,
            _access: PhantomData,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The view, when the section has at least `n` bytes; else `EMISMATCH`
    /// (a bpf.so of another object: generated views check this once).
    pub fn expect_len(self, n: usize) -> Result<Self> {
        if self.len < n {
            return Err(Error::new(
                crate::error::EMISMATCH,
                format!(
                    "section '{}' has {} bytes, the code expects at least {n}",
                    self.name, self.len
                ),
            ));
        }
        Ok(self)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, offset: usize, n: usize) -> Result<()> {
        if offset > self.len || n > self.len - offset {
            return Err(Error::invalid(format!(
                "section '{}': {n} bytes at offset {offset} do not fit in its {} bytes",
                self.name, self.len
            )));
        }
        Ok(())
    }

    /// The value at `offset` (what generated getters call). Panics when it
    /// does not fit (generated code checks the section's size first).
    #[inline]
    pub fn get<T: Pod>(&self, offset: usize) -> T {
        if let Err(e) = self.check(offset, size_of::<T>()) {
            panic!("{e}");
        }
        // SAFETY: in bounds; mapped for 'a; any bytes are a valid T.
        unsafe {
            let p = self.ptr.add(offset);
            if (p as usize) % align_of::<T>() == 0 {
                ptr::read_volatile(p.cast::<T>())
            } else {
                let mut v = MaybeUninit::<T>::uninit();
                let d = v.as_mut_ptr().cast::<u8>();
                for i in 0..size_of::<T>() {
                    d.add(i).write(ptr::read_volatile(p.add(i)));
                }
                v.assume_init()
            }
        }
    }

    /// Copies `out.len()` bytes at `offset` into `out`.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check(offset, out.len())?;
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: in bounds.
            *o = unsafe { ptr::read_volatile(self.ptr.add(offset + i)) };
        }
        Ok(())
    }

    /// A copy of the whole section.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.len];
        let _ = self.read(0, &mut v);
        v
    }
}

impl Section<'_, ReadWrite> {
    /// Writes `v` at `offset` (what generated setters call). Panics when it
    /// does not fit (generated code checks the section's size first).
    #[inline]
    pub fn set<T: Pod>(&self, offset: usize, v: T) {
        if let Err(e) = self.check(offset, size_of::<T>()) {
            panic!("{e}");
        }
        // SAFETY: in bounds, mapped writable for 'a.
        unsafe {
            let p = self.ptr.add(offset);
            if (p as usize) % align_of::<T>() == 0 {
                ptr::write_volatile(p.cast::<T>(), v);
            } else {
                let s = (&v as *const T).cast::<u8>();
                for i in 0..size_of::<T>() {
                    ptr::write_volatile(p.add(i), *s.add(i));
                }
            }
        }
    }

    /// Writes `bytes` at `offset`.
    pub fn write(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        self.check(offset, bytes.len())?;
        for (i, b) in bytes.iter().enumerate() {
            // SAFETY: in bounds, writable.
            unsafe { ptr::write_volatile(self.ptr.add(offset + i), *b) };
        }
        Ok(())
    }

    /// The same bytes as a read-only view.
    pub fn read_only(&self) -> Section<'_, ReadOnly> {
        // SAFETY: the same memory, for a shorter lifetime.
        unsafe { Section::new(self.ptr, self.len, &self.name) }
    }
}

impl<A> std::fmt::Debug for Section<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Section")
            .field("name", &self.name)
            .field("len", &self.len)
            .finish()
    }
}
