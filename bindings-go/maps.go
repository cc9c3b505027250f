package coolbpf

// #include "cbgo.h"
import "C"

import (
	"runtime"
	"sync"
	"syscall"
)

// MapInfo is what the object says of a map.
type MapInfo struct {
	// Type is BPF_MAP_TYPE_*.
	Type       uint32
	KeySize    int
	ValueSize  int // one value (one CPU's, for per-CPU maps)
	MaxEntries int
	Flags      uint32
	// Fd is -1 before load.
	Fd     int
	PerCPU bool
	// ValueBufferSize is the bytes Lookup/Update take: ValueSize, or for
	// per-CPU maps ValueSize rounded up to 8, times the possible CPUs.
	ValueBufferSize int
}

// UpdateFlags are the flags of a map update.
type UpdateFlags uint64

const (
	// UpdateAny creates or replaces (BPF_ANY).
	UpdateAny UpdateFlags = 0
	// UpdateNoExist creates only: EEXIST when the key exists (BPF_NOEXIST).
	UpdateNoExist UpdateFlags = 1
	// UpdateExist replaces only: ENOENT when it does not (BPF_EXIST).
	UpdateExist UpdateFlags = 2
	// UpdateLock takes the value's bpf_spin_lock (BPF_F_LOCK).
	UpdateLock UpdateFlags = 4
)

// RawMap is a map with keys and values as bytes; the typed maps of
// generated code are built on it. Element operations need the object loaded
// (ESTATE before, EDESTROYED after Close).
type RawMap struct {
	o     *Object
	name  string
	cname *C.char
	info  MapInfo
}

// Map gives the map of that name (ENOENT when there is none).
func (o *Object) Map(name string) (*RawMap, error) {
	o.mapsMu.Lock()
	defer o.mapsMu.Unlock()
	if m, ok := o.maps[name]; ok {
		return m, nil
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if err := o.require(needAlive, "Map("+name+")"); err != nil {
		return nil, err
	}
	m := &RawMap{o: o, name: name, cname: o.cname(name)}
	info, err := m.fetchInfo()
	if err != nil {
		return nil, err
	}
	m.info = info
	o.maps[name] = m
	return m, nil
}

// Name is the map's name.
func (m *RawMap) Name() string { return m.name }

// Object is the object the map belongs to.
func (m *RawMap) Object() *Object { return m.o }

func (m *RawMap) fetchInfo() (MapInfo, error) {
	var i C.struct_coolbpf_map_info
	if _, err := result(C.cbgo_map_info(m.o.lib.lib, m.o.c, m.cname, &i)); err != nil {
		return MapInfo{}, err
	}
	return MapInfo{
		Type: uint32(i._type), KeySize: int(i.key_size), ValueSize: int(i.value_size), MaxEntries: int(i.max_entries),
		Flags: uint32(i.flags), Fd: int(i.fd), PerCPU: i.per_cpu != 0, ValueBufferSize: int(i.value_buffer_size),
	}, nil
}

// Info is the map's information now (Fd is -1 before load).
func (m *RawMap) Info() (MapInfo, error) {
	m.o.mu.RLock()
	defer m.o.mu.RUnlock()
	if err := m.o.require(needAlive, "map '"+m.name+"'"); err != nil {
		return MapInfo{}, err
	}
	return m.fetchInfo()
}

// FD is the map's file descriptor (after load); it stays owned by the object.
func (m *RawMap) FD() (int, error) {
	i, err := m.Info()
	if err != nil {
		return -1, err
	}
	if i.Fd < 0 {
		return -1, newError(CodeState, "map '%s': the object is not loaded yet; call Load() first", m.name)
	}
	return i.Fd, nil
}

func (m *RawMap) lock(what string) error {
	m.o.mu.RLock()
	if err := m.o.require(needLoaded, "map '"+m.name+"': "+what); err != nil {
		m.o.mu.RUnlock()
		return err
	}
	return nil
}

func (m *RawMap) unlock() { m.o.mu.RUnlock() }

// Lookup copies the value of key into value (exactly ValueBufferSize
// bytes); false when there is no such key.
func (m *RawMap) Lookup(key, value []byte, flags uint64) (bool, error) {
	if err := m.lock("lookup"); err != nil {
		return false, err
	}
	defer m.unlock()
	r, err := result(C.cbgo_map_lookup(m.o.lib.lib, m.o.c, m.cname, bytePtr(key), bytePtr(value), C.size_t(len(value)), C.uint64_t(flags)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	if err != nil {
		return false, err
	}
	return r == 0, nil
}

// Update sets key to value (ValueBufferSize bytes) as flags say.
func (m *RawMap) Update(key, value []byte, flags UpdateFlags) error {
	if err := m.lock("update"); err != nil {
		return err
	}
	defer m.unlock()
	_, err := result(C.cbgo_map_update(m.o.lib.lib, m.o.c, m.cname, bytePtr(key), bytePtr(value), C.size_t(len(value)), C.uint64_t(flags)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	return nilIfNone(err)
}

// Delete removes key; false when there was no such key (array maps cannot
// delete: EINVAL).
func (m *RawMap) Delete(key []byte) (bool, error) {
	if err := m.lock("delete"); err != nil {
		return false, err
	}
	defer m.unlock()
	r, err := result(C.cbgo_map_delete(m.o.lib.lib, m.o.c, m.cname, bytePtr(key)))
	runtime.KeepAlive(key)
	if err != nil {
		return false, err
	}
	return r == 0, nil
}

// NextKey writes the key after key (nil: the first key) into next; false
// when there is none.
func (m *RawMap) NextKey(key, next []byte) (bool, error) {
	if err := m.lock("next key"); err != nil {
		return false, err
	}
	defer m.unlock()
	r, err := result(C.cbgo_map_next_key(m.o.lib.lib, m.o.c, m.cname, bytePtr(key), bytePtr(next)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(next)
	if err != nil {
		return false, err
	}
	return r == 0, nil
}

// LookupBatch is BPF_MAP_LOOKUP_BATCH: up to count entries after cursor
// (nil: from the start) into keys (count × KeySize bytes) and values (count
// × ValueBufferSize); nextCursor (max(KeySize, 8) bytes) receives the cursor
// of the next call. done: this was the last batch. An EOPNOTSUPP error where
// the kernel or the map type has no batch operations; ENOSPC when a hash
// bucket holds more than count entries (call again with a larger count).
func (m *RawMap) LookupBatch(cursor, nextCursor, keys, values []byte, count int) (n int, done bool, err error) {
	if err := m.lock("lookup batch"); err != nil {
		return 0, false, err
	}
	defer m.unlock()
	if len(nextCursor) < 8 || len(nextCursor) < m.info.KeySize || len(keys) < count*m.info.KeySize || len(values) < count*m.info.ValueBufferSize {
		return 0, false, errnoError(syscall.EINVAL, "map '%s': lookup batch: buffers too small for %d entries", m.name, count)
	}
	r, e := result(C.cbgo_map_lookup_batch(m.o.lib.lib, m.o.c, m.cname, bytePtr(cursor), bytePtr(nextCursor), bytePtr(keys), bytePtr(values), C.uint32_t(count)))
	runtime.KeepAlive(cursor)
	runtime.KeepAlive(nextCursor)
	runtime.KeepAlive(keys)
	runtime.KeepAlive(values)
	if e != nil {
		return 0, false, e
	}
	return int(r / 2), r&1 == 1, nil
}

// ---- typed maps ----

// IterOptions tune a map walk.
type IterOptions struct {
	// BatchSize is how many entries one batch lookup asks for (default 256).
	BatchSize int
	// NoBatch walks with next_key + lookup even where batch lookup works
	// (the path of kernels and map types without batch operations).
	NoBatch bool
}

// IterStats says how a walk read the map.
type IterStats struct {
	// BatchCalls are the batch lookups made (0 in next_key mode).
	BatchCalls int
	// NextKeyCalls are the next_key calls made (0 in batch mode).
	NextKeyCalls int
	// Batch: the walk used batch lookup.
	Batch bool
}

const (
	modeBatch = iota
	modeNext
	modeDone
)

// cursor walks a map's entries: batch lookup where the kernel has it for
// the map type, next_key + lookup otherwise. While the map changes: the walk
// always ends, no key is yielded twice, entries present throughout are
// yielded once, entries added or deleted meanwhile may or may not be, and
// deleting the entry just yielded is safe (next_key mode reads the following
// key first). Batch values are a snapshot per batch.
type cursor struct {
	m      *RawMap
	info   MapInfo
	values bool
	mode   int
	err    error
	stats  IterStats

	key, value []byte // the current entry

	// batch mode
	count      int
	keys, vals []byte
	cin, cout  []byte
	started    bool
	last       bool
	n, i       int
	// next_key mode
	k          [2][]byte
	cur        int
	hasPending bool
	seen       map[string]struct{}
	steps      int
}

func newCursor(m *RawMap, values bool, opts IterOptions) *cursor {
	info := m.info
	c := &cursor{m: m, info: info, values: values}
	if opts.NoBatch {
		c.startNextKey()
		return c
	}
	size := opts.BatchSize
	if size <= 0 {
		size = 256
	}
	if info.MaxEntries > 0 && size > info.MaxEntries {
		size = info.MaxEntries
	}
	c.grow(size)
	cs := info.KeySize
	if cs < 8 {
		cs = 8
	}
	c.cin, c.cout = make([]byte, cs), make([]byte, cs)
	return c
}

func (c *cursor) grow(count int) {
	c.count = count
	c.keys = make([]byte, max1(count*c.info.KeySize))
	c.vals = make([]byte, max1(count*c.info.ValueBufferSize))
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func (c *cursor) next() bool {
	for {
		switch c.mode {
		case modeBatch:
			if c.i < c.n {
				i := c.i
				c.i++
				ks, vs := c.info.KeySize, c.info.ValueBufferSize
				c.key = c.keys[i*ks : (i+1)*ks]
				c.value = c.vals[i*vs : (i+1)*vs]
				return true
			}
			if c.last {
				c.mode = modeDone
				return false
			}
			if !c.fetchBatch() {
				return false
			}
		case modeNext:
			return c.nextKey()
		default:
			return false
		}
	}
}

func (c *cursor) fail(err error) bool {
	c.err = err
	c.mode = modeDone
	return false
}

func (c *cursor) fetchBatch() bool {
	for guard := 0; ; guard++ {
		var in []byte
		if c.started {
			in = c.cin
		}
		n, done, err := c.m.LookupBatch(in, c.cout, c.keys, c.vals, c.count)
		c.stats.BatchCalls++
		if err != nil {
			e := AsError(err)
			if e != nil && e.Errno == syscall.ENOSPC && c.count < max1(c.info.MaxEntries)*2 {
				c.grow(c.count * 2) // a hash bucket larger than the batch: retry with room for it
				continue
			}
			if e != nil && e.Errno == syscall.EOPNOTSUPP && !c.started {
				c.startNextKey()
				return true
			}
			return c.fail(err)
		}
		c.stats.Batch = true
		c.started = true
		c.cin, c.cout = c.cout, c.cin
		c.n, c.i, c.last = n, 0, done
		if n > 0 || done || guard > 1024 {
			if n == 0 && !done {
				c.last = true // the kernel made no progress: stop rather than spin
			}
			return true
		}
	}
}

func (c *cursor) startNextKey() {
	c.mode = modeNext
	ks := max1(c.info.KeySize)
	c.k = [2][]byte{make([]byte, ks), make([]byte, ks)}
	c.cur = 0
	c.seen = map[string]struct{}{}
	c.vals = make([]byte, max1(c.info.ValueBufferSize))
	ok, err := c.m.NextKey(nil, c.k[0])
	c.stats.NextKeyCalls++
	if err != nil {
		c.fail(err)
		return
	}
	c.hasPending = ok
}

func (c *cursor) nextKey() bool {
	// bounded even if the map churns so that next_key keeps restarting
	limit := 4*max1(c.info.MaxEntries) + 64
	for c.hasPending {
		c.steps++
		if c.steps > limit {
			break
		}
		cur := c.cur
		key := c.k[cur]
		other := 1 - cur
		// read the following key first, so deleting this one does not lose our place
		ok, err := c.m.NextKey(key, c.k[other])
		c.stats.NextKeyCalls++
		if err != nil {
			return c.fail(err)
		}
		c.hasPending = ok
		c.cur = other
		if _, dup := c.seen[string(key)]; dup {
			continue
		}
		if c.values {
			found, err := c.m.Lookup(key, c.vals, 0)
			if err != nil {
				return c.fail(err)
			}
			if !found {
				continue // deleted meanwhile
			}
		}
		c.seen[string(key)] = struct{}{}
		c.key = key
		c.value = c.vals
		return true
	}
	c.mode = modeDone
	c.seen = nil
	return false
}

// keyed is what Map and PerCPUMap share: keys through a codec, values
// (VV: V, or []V per CPU) through decode/encode functions.
type keyed[K comparable, VV any] struct {
	raw *RawMap
	kc  Codec[K]
	err error // a mismatch found when the map was made

	mu sync.Mutex // guards the buffers
	kb []byte
	vb []byte
	vv VV

	decodeValue func(b []byte, v *VV)
	encodeValue func(b []byte, v *VV) error
}

func (m *keyed[K, VV]) init(raw *RawMap, kc Codec[K], valueSize int, perCPU bool, kind string) {
	m.raw, m.kc = raw, kc
	i := raw.info
	switch {
	case i.PerCPU != perCPU:
		use := "Map"
		if i.PerCPU {
			use = "PerCPUMap"
		}
		m.err = newError(CodeMismatch, "%s '%s': it is %sa per-CPU map: use %s", kind, raw.name, map[bool]string{true: "", false: "not "}[i.PerCPU], use)
	case kc.Size != i.KeySize:
		m.err = newError(CodeMismatch, "%s '%s': the key type is %d bytes, the map's keys are %d", kind, raw.name, kc.Size, i.KeySize)
	case valueSize != i.ValueSize:
		m.err = newError(CodeMismatch, "%s '%s': the value type is %d bytes, the map's values are %d", kind, raw.name, valueSize, i.ValueSize)
	}
	m.kb = make([]byte, max1(i.KeySize))
	m.vb = make([]byte, max1(i.ValueBufferSize))
}

// Raw is the untyped map underneath.
func (m *keyed[K, VV]) Raw() *RawMap { return m.raw }

// Name is the map's name.
func (m *keyed[K, VV]) Name() string { return m.raw.name }

// Info is the map's information.
func (m *keyed[K, VV]) Info() (MapInfo, error) { return m.raw.Info() }

// key encodes k into the key buffer (zeroed first: hash maps compare whole
// keys, padding included). m.mu is held.
func (m *keyed[K, VV]) key(k *K) []byte {
	zeroBytes(m.kb)
	m.kc.Encode(m.kb, k)
	return m.kb
}

func zeroBytes(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// Get is the value of key, and whether there is one (a missing key is not
// an error).
func (m *keyed[K, VV]) Get(key K) (VV, bool, error) {
	var zero VV
	if m.err != nil {
		return zero, false, m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	found, err := m.raw.Lookup(m.key(&key), m.vb, 0)
	if err != nil || !found {
		return zero, false, err
	}
	m.decodeValue(m.vb, &m.vv)
	v := m.vv
	m.vv = zero
	return v, true, nil
}

// Has says whether there is a value for key.
func (m *keyed[K, VV]) Has(key K) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.raw.Lookup(m.key(&key), m.vb, 0)
}

// Set creates or replaces the value of key (UpdateAny).
func (m *keyed[K, VV]) Set(key K, value VV) error {
	return m.Update(key, value, UpdateAny)
}

// Update sets the value of key as flags say: UpdateNoExist fails with
// EEXIST when the key exists, UpdateExist with ENOENT when it does not.
func (m *keyed[K, VV]) Update(key K, value VV, flags UpdateFlags) error {
	if m.err != nil {
		return m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	kb := m.key(&key)
	zeroBytes(m.vb)
	if err := m.encodeValue(m.vb, &value); err != nil {
		return err
	}
	return m.raw.Update(kb, m.vb, flags)
}

// Delete removes key: false when there was no such key (array maps cannot
// delete: EINVAL).
func (m *keyed[K, VV]) Delete(key K) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.raw.Delete(m.key(&key))
}

// Iterate walks the entries: batch lookup (256 entries per system call)
// where the kernel has it for this map type, next_key + lookup otherwise.
// While the map changes the walk always ends and yields no key twice;
// entries present throughout are yielded once, entries added or deleted
// meanwhile may or may not be; deleting the entry just yielded is safe.
//
//	it := m.Iterate()
//	for it.Next() {
//		k, v := it.Key(), it.Value()
//	}
//	if err := it.Err(); err != nil { … }
func (m *keyed[K, VV]) Iterate() *MapIterator[K, VV] {
	return m.IterateWith(IterOptions{})
}

// IterateWith is Iterate with options (batch size, next_key only).
func (m *keyed[K, VV]) IterateWith(opts IterOptions) *MapIterator[K, VV] {
	it := &MapIterator[K, VV]{m: m}
	if m.err != nil {
		it.err = m.err
		return it
	}
	it.c = newCursor(m.raw, true, opts)
	return it
}

// Keys are every key (a walk as Iterate's).
func (m *keyed[K, VV]) Keys() ([]K, error) {
	var out []K
	it := m.Iterate()
	for it.Next() {
		out = append(out, it.Key())
	}
	return out, it.Err()
}

// Values are every value (a walk as Iterate's).
func (m *keyed[K, VV]) Values() ([]VV, error) {
	var out []VV
	it := m.Iterate()
	for it.Next() {
		out = append(out, it.Value())
	}
	return out, it.Err()
}

// Entries are every entry as a Go map (a walk as Iterate's).
func (m *keyed[K, VV]) Entries() (map[K]VV, error) {
	out := map[K]VV{}
	it := m.Iterate()
	for it.Next() {
		out[it.Key()] = it.Value()
	}
	return out, it.Err()
}

// MapIterator walks a map's entries (see Iterate).
type MapIterator[K comparable, VV any] struct {
	m     *keyed[K, VV]
	c     *cursor
	err   error
	key   K
	value VV
}

// Next advances to the next entry; false at the end or on an error (Err).
func (it *MapIterator[K, VV]) Next() bool {
	if it.c == nil {
		return false
	}
	if !it.c.next() {
		it.err = it.c.err
		return false
	}
	it.key = *new(K)
	it.m.kc.Decode(it.c.key, &it.key)
	it.m.decodeValue(it.c.value, &it.value)
	return true
}

// Key is the current entry's key.
func (it *MapIterator[K, VV]) Key() K { return it.key }

// Value is the current entry's value.
func (it *MapIterator[K, VV]) Value() VV { return it.value }

// Err is what ended the walk early, or nil.
func (it *MapIterator[K, VV]) Err() error { return it.err }

// Stats says how the walk read the map so far.
func (it *MapIterator[K, VV]) Stats() IterStats {
	if it.c == nil {
		return IterStats{}
	}
	return it.c.stats
}

// Map is a typed map: keys K, values V, each with its C layout.
type Map[K comparable, V any] struct {
	keyed[K, V]
}

// NewMap makes the typed view of a map. A map whose key or value size
// differs from the codecs', or a per-CPU map, gives EMISMATCH errors from
// every operation.
func NewMap[K comparable, V any](raw *RawMap, key Codec[K], value Codec[V]) *Map[K, V] {
	m := &Map[K, V]{}
	m.init(raw, key, value.Size, false, "Map")
	m.decodeValue = func(b []byte, v *V) {
		*v = *new(V)
		value.Decode(b, v)
	}
	m.encodeValue = func(b []byte, v *V) error {
		value.Encode(b, v)
		return nil
	}
	return m
}

// PerCPUMap is a typed per-CPU map: each value is one V per possible CPU
// (index = CPU number), read and written in the kernel's 8-byte slots.
type PerCPUMap[K comparable, V any] struct {
	keyed[K, []V]
	cpus int
}

// NewPerCPUMap makes the typed view of a per-CPU map (see NewMap).
func NewPerCPUMap[K comparable, V any](raw *RawMap, key Codec[K], value Codec[V]) *PerCPUMap[K, V] {
	m := &PerCPUMap[K, V]{}
	m.init(raw, key, value.Size, true, "PerCPUMap")
	slot := (value.Size + 7) &^ 7
	if slot > 0 {
		m.cpus = raw.info.ValueBufferSize / slot
	}
	m.decodeValue = func(b []byte, v *[]V) {
		out := make([]V, m.cpus)
		for i := range out {
			value.Decode(b[i*slot:i*slot+value.Size], &out[i])
		}
		*v = out
	}
	m.encodeValue = func(b []byte, v *[]V) error {
		if len(*v) != m.cpus {
			return errnoError(syscall.EINVAL, "PerCPUMap '%s': %d values given, the map needs one per possible CPU (%d)", raw.name, len(*v), m.cpus)
		}
		for i := range *v {
			value.Encode(b[i*slot:i*slot+value.Size], &(*v)[i])
		}
		return nil
	}
	return m
}

// CPUs is the number of possible CPUs: the length of every value.
func (m *PerCPUMap[K, V]) CPUs() int { return m.cpus }
