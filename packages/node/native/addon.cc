// SPDX-License-Identifier: Apache-2.0
//
// coolbpf_node: the native half of @coolbpf/node.
//
// A bpf.so is dlopen()ed by path (RTLD_NOW | RTLD_LOCAL) and every coolbpf_*
// function is resolved from it; nothing here links libbpf or the runtime,
// so several bpf.so files live side by side in one process. The TypeScript
// side (src/*.ts) holds the public API; this file keeps the pointers safe:
//
//  - Obj owns a struct coolbpf. Its lifetime is shared by the JS object, the
//    maps and readers made from it and the external ArrayBuffers over its
//    data sections, so memory is never freed under a live view. An explicit
//    destroy() unloads at once and detaches those ArrayBuffers, so a later
//    access throws TypeError instead of touching unmapped memory.
//  - Events waits in Node's own event loop: a uv_poll_t on the ABI's epoll fd
//    calls back into JS, which drains with a non-blocking read. No thread.
//  - Failures throw the CoolbpfError class the JS side registered at init.
#include <dlfcn.h>
#include <string.h>
#include <uv.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <napi.h>

#include "coolbpf.h"

namespace {

// ---------------------------------------------------------------- the ABI

#define COOLBPF_FUNCTIONS(X) \
  X(abi_version) X(object_sha256) X(object_data) X(last_error) X(last_errno) X(open) X(set_initial) \
  X(set_autoload) X(load) X(attach) X(init) X(destroy) X(attach_uprobe) X(attach_kprobe) \
  X(attach_tracepoint) X(attach_raw_tracepoint) X(attach_xdp) X(attach_tc) X(attach_cgroup) \
  X(attach_perf_event) X(detach) X(num_possible_cpus) X(map_info) X(map_fd) X(map_lookup) \
  X(map_update) X(map_delete) X(map_next_key) X(map_lookup_batch) X(data) X(events_open) \
  X(events_fd) X(events_read) X(events_stats) X(events_close)

// One dlopen()ed bpf.so. Never dlclose()d: objects, views and readers may
// outlive the JS Library, and a bpf.so's libbpf keeps process-wide state.
struct Api {
  std::string path;
  void *handle = nullptr;
#define X(name) decltype(&coolbpf_##name) name = nullptr;
  COOLBPF_FUNCTIONS(X)
#undef X
};

constexpr uint32_t kBpfFRdonlyProg = 1u << 7; // BPF_F_RDONLY_PROG

// ---------------------------------------------------------------- per-env data

struct Instance {
  Napi::FunctionReference errorClass;
  Napi::FunctionReference objectClass, mapClass, eventsClass;
};

Instance &Inst(Napi::Env env) { return *env.GetInstanceData<Instance>(); }

// Throws the registered CoolbpfError(message, code, errno); code undefined
// lets the JS class name it from errno.
[[noreturn]] void Throw(Napi::Env env, const std::string &message, const char *code, int err) {
  Instance *inst = env.GetInstanceData<Instance>();
  if (inst && !inst->errorClass.IsEmpty()) {
    Napi::Value c = code ? Napi::Value(Napi::String::New(env, code)) : env.Undefined();
    Napi::Object e = inst->errorClass.New({Napi::String::New(env, message), c, Napi::Number::New(env, err)});
    throw Napi::Error(env, e);
  }
  throw Napi::Error::New(env, message);
}

// The failure the ABI just reported on this thread.
[[noreturn]] void ThrowAbi(Napi::Env env, const Api &api, int ret) {
  int err = api.last_errno();
  if (err == 0)
    err = ret < 0 ? -ret : 0;
  std::string msg = api.last_error();
  if (msg.empty())
    msg = std::string("coolbpf call failed: ") + strerror(err) + " (errno " + std::to_string(err) + ")";
  Throw(env, msg, nullptr, err);
}

// ---------------------------------------------------------------- arguments

std::string Str(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (!info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// An optional string: undefined or null give "absent".
bool OptStr(const Napi::CallbackInfo &info, size_t i, std::string &out, const char *what) {
  if (info[i].IsUndefined() || info[i].IsNull())
    return false;
  out = Str(info, i, what);
  return true;
}

int64_t Int(const Napi::CallbackInfo &info, size_t i, const char *what) {
  Napi::Value v = info[i];
  if (v.IsNumber())
    return v.As<Napi::Number>().Int64Value();
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  if (v.IsUndefined())
    return 0;
  throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number or a bigint");
}

uint64_t U64(const Napi::CallbackInfo &info, size_t i, const char *what) {
  Napi::Value v = info[i];
  if (v.IsBigInt()) {
    bool lossless;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless)
      throw Napi::RangeError::New(info.Env(), std::string(what) + " does not fit in 64 bits");
    return r;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != d || d > 18446744073709551615.0)
      throw Napi::RangeError::New(info.Env(), std::string(what) + " must be a non-negative integer");
    return (uint64_t)d;
  }
  if (v.IsUndefined())
    return 0;
  throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number or a bigint");
}

struct Bytes {
  uint8_t *data;
  size_t len;
};

// The bytes of a TypedArray or DataView argument.
Bytes View(const Napi::CallbackInfo &info, size_t i, const char *what) {
  napi_env env = info.Env();
  napi_value v = info[i];
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length;
    void *data;
    napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    size_t el = 1;
    switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      el = 2;
      break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      el = 4;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      el = 8;
      break;
    default:
      break;
    }
    return {static_cast<uint8_t *>(data), length * el};
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    size_t length;
    void *data;
    napi_get_dataview_info(env, v, &length, &data, nullptr, nullptr);
    return {static_cast<uint8_t *>(data), length};
  }
  throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Uint8Array (or another TypedArray/DataView)");
}

// ---------------------------------------------------------------- object core

enum class State { Opened, Loaded, Attached, Destroyed };

const char *StateName(State s) {
  switch (s) {
  case State::Opened:
    return "opened";
  case State::Loaded:
    return "loaded";
  case State::Attached:
    return "attached";
  case State::Destroyed:
    return "destroyed";
  }
  return "?";
}

struct EventsCore;

struct Obj {
  std::shared_ptr<Api> api;
  coolbpf *c = nullptr;
  State state = State::Opened;
  bool loadFailed = false;
  std::vector<EventsCore *> events; // open readers, closed before c is destroyed

  ~Obj() { Destroy(); }
  void Destroy();
};

// What to require before a call; throws ESTATE/EDESTROYED in words that say
// what to do instead.
enum class Need { Opened, Loaded, NotDestroyed };

void Require(Napi::Env env, const Obj &o, Need need, const std::string &what) {
  if (o.state == State::Destroyed)
    Throw(env, what + ": the object was destroyed", "EDESTROYED", 0);
  switch (need) {
  case Need::Opened:
    if (o.state != State::Opened)
      Throw(env, what + ": the object is already " + StateName(o.state) + "; this is possible only between open() and load()",
            "ESTATE", 0);
    if (o.loadFailed)
      Throw(env, what + ": load() failed on this object; destroy() it and open a new one", "ESTATE", 0);
    break;
  case Need::Loaded:
    if (o.state == State::Opened)
      Throw(env, what + (o.loadFailed ? ": load() failed on this object; destroy() it and open a new one"
                                      : ": the object is not loaded yet; call load() first"),
            "ESTATE", 0);
    break;
  case Need::NotDestroyed:
    break;
  }
}

// ---------------------------------------------------------------- event loop

struct Poller {
  uv_poll_t handle;
  napi_env env = nullptr;
  bool initialized = false;
  bool active = false;
  bool inCallback = false; // JS is running from OnPoll
  bool closing = false;    // closed from inside that callback: OnPoll finishes
  Napi::FunctionReference callback;
  napi_async_context context = nullptr;
  // set when the environment's teardown closed it: Node waits for the close
  napi_async_cleanup_hook_handle teardown = nullptr;
};

void OnPollClosed(uv_handle_t *h) {
  auto *p = static_cast<Poller *>(h->data);
  if (p->teardown)
    napi_remove_async_cleanup_hook(p->teardown);
  delete p;
}

// Releases what the poller holds and closes its handle (freed by libuv's
// close callback). Not while make_callback still uses the async context.
void FinishClose(Poller *p) {
  p->callback.Reset();
  if (p->context) {
    napi_async_destroy(p->env, p->context);
    p->context = nullptr;
  }
  if (p->initialized) {
    uv_poll_stop(&p->handle);
    uv_close(reinterpret_cast<uv_handle_t *>(&p->handle), OnPollClosed);
  } else {
    if (p->teardown)
      napi_remove_async_cleanup_hook(p->teardown);
    delete p;
  }
}

struct EventsCore {
  std::shared_ptr<Obj> obj;
  coolbpf_events *e = nullptr;
  std::string map;
  int fd = -1;
  uint64_t records = 0, lost = 0; // the last stats, kept after close
  Poller *poller = nullptr;
  napi_async_cleanup_hook_handle cleanupHook = nullptr;

  ~EventsCore() { Close(); }
  void ClosePoller();
  void Close();
};

// At environment teardown (a worker ending, or the process): close the
// poll handle, and tell Node when libuv has closed it (OnPollClosed), so
// the loop is not closed, nor the addon unloaded, under a live handle.
void CleanupHook(napi_async_cleanup_hook_handle handle, void *arg) {
  auto *core = static_cast<EventsCore *>(arg);
  core->cleanupHook = nullptr;
  Poller *p = core->poller;
  if (!p) {
    napi_remove_async_cleanup_hook(handle);
    return;
  }
  p->teardown = handle;
  core->ClosePoller();
}

void EventsCore::ClosePoller() {
  Poller *p = poller;
  if (!p)
    return;
  poller = nullptr;
  if (cleanupHook) {
    napi_remove_async_cleanup_hook(cleanupHook);
    cleanupHook = nullptr;
  }
  if (p->inCallback) {
    if (p->initialized)
      uv_poll_stop(&p->handle);
    p->active = false;
    p->closing = true;
    return;
  }
  FinishClose(p);
}

void EventsCore::Close() {
  ClosePoller();
  if (e) {
    obj->api->events_stats(e, &records, &lost);
    obj->api->events_close(e);
    e = nullptr;
  }
  if (obj) {
    auto &v = obj->events;
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
  }
}

void Obj::Destroy() {
  // readers first: their poll handles watch fds that destroy closes
  std::vector<EventsCore *> evs;
  evs.swap(events);
  for (EventsCore *ev : evs)
    ev->Close();
  if (c) {
    api->destroy(c);
    c = nullptr;
  }
  state = State::Destroyed;
}

void OnPoll(uv_poll_t *h, int status, int events) {
  Poller *p = static_cast<Poller *>(h->data);
  if (p->closing || p->callback.IsEmpty())
    return;
  Napi::Env env(p->env);
  Napi::HandleScope scope(env);
  napi_value recv; // make_callback wants an object
  napi_get_global(env, &recv);
  napi_value arg;
  napi_create_int32(env, status, &arg);
  napi_value result;
  napi_value fn = p->callback.Value();
  // make_callback runs process.nextTick()s and microtasks afterwards, as
  // for any callback from the event loop
  p->inCallback = true;
  napi_status s = napi_make_callback(env, p->context, recv, fn, 1, &arg, &result);
  p->inCallback = false;
  if (s == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  if (p->closing)
    FinishClose(p);
}

// ---------------------------------------------------------------- Library

class Library : public Napi::ObjectWrap<Library> {
public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeLibrary",
                       {
                           InstanceMethod<&Library::AbiVersion>("abiVersion"),
                           InstanceMethod<&Library::ObjectSha256>("objectSha256"),
                           InstanceMethod<&Library::PossibleCpus>("possibleCpus"),
                           InstanceMethod<&Library::Open>("open"),
                       });
  }

  Library(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Library>(info) {
    Napi::Env env = info.Env();
    std::string path = Str(info, 0, "path");
    auto api = std::make_shared<Api>();
    api->path = path;
    dlerror();
    api->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!api->handle) {
      const char *why = dlerror();
      Throw(env, "loadLibrary: cannot load '" + path + "': " + (why ? why : "dlopen failed"), "ELIBBAD", 80);
    }
    auto sym = [&](const char *name) {
      void *p = dlsym(api->handle, name);
      if (!p)
        Throw(env, "loadLibrary: '" + path + "' is not a coolbpf bpf.so: it has no " + name, "EMISMATCH", 0);
      return p;
    };
    api->abi_version = reinterpret_cast<decltype(api->abi_version)>(sym("coolbpf_abi_version"));
    uint32_t v = api->abi_version();
    if (v != COOLBPF_ABI_VERSION)
      Throw(env,
            "loadLibrary: '" + path + "' has coolbpf ABI version " + std::to_string(v) + ", this runtime supports " +
                std::to_string(COOLBPF_ABI_VERSION) + " (rebuild it with the matching coolbpf-gen)",
            "EMISMATCH", 0);
#define X(name) api->name = reinterpret_cast<decltype(api->name)>(sym("coolbpf_" #name));
    COOLBPF_FUNCTIONS(X)
#undef X
    api_ = std::move(api);
  }

private:
  std::shared_ptr<Api> api_;

  Napi::Value AbiVersion(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), api_->abi_version()); }
  Napi::Value ObjectSha256(const Napi::CallbackInfo &info) {
    return Napi::String::New(info.Env(), api_->object_sha256());
  }
  Napi::Value PossibleCpus(const Napi::CallbackInfo &info) {
    int n = api_->num_possible_cpus();
    if (n < 0)
      ThrowAbi(info.Env(), *api_, n);
    return Napi::Number::New(info.Env(), n);
  }
  // open(btfPath?, logLevel, logFd)
  Napi::Value Open(const Napi::CallbackInfo &info);
};

// ---------------------------------------------------------------- BpfObject

struct SectionBuffer {
  std::string section;
  Napi::Reference<Napi::ArrayBuffer> ref; // weak
};

class Object : public Napi::ObjectWrap<Object> {
public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeObject",
                       {
                           InstanceMethod<&Object::GetState>("state"),
                           InstanceMethod<&Object::SetInitial>("setInitial"),
                           InstanceMethod<&Object::SetAutoload>("setAutoload"),
                           InstanceMethod<&Object::Load>("load"),
                           InstanceMethod<&Object::Attach>("attach"),
                           InstanceMethod<&Object::AttachUprobe>("attachUprobe"),
                           InstanceMethod<&Object::AttachKprobe>("attachKprobe"),
                           InstanceMethod<&Object::AttachTracepoint>("attachTracepoint"),
                           InstanceMethod<&Object::AttachRawTracepoint>("attachRawTracepoint"),
                           InstanceMethod<&Object::AttachXdp>("attachXdp"),
                           InstanceMethod<&Object::AttachTc>("attachTc"),
                           InstanceMethod<&Object::AttachCgroup>("attachCgroup"),
                           InstanceMethod<&Object::AttachPerfEvent>("attachPerfEvent"),
                           InstanceMethod<&Object::Detach>("detach"),
                           InstanceMethod<&Object::Section>("section"),
                           InstanceMethod<&Object::Map>("map"),
                           InstanceMethod<&Object::Events>("events"),
                           InstanceMethod<&Object::Destroy>("destroy"),
                       });
  }

  // new NativeObject(External<shared_ptr<Obj>>): made by Library.open only
  Object(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Object>(info) {
    if (!info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "NativeObject is made by Library.open()");
    auto *p = info[0].As<Napi::External<std::shared_ptr<Obj>>>().Data();
    obj_ = *p;
    delete p;
  }

  const std::shared_ptr<Obj> &obj() const { return obj_; }

private:
  std::shared_ptr<Obj> obj_;
  std::vector<SectionBuffer> buffers_;

  const Api &api() const { return *obj_->api; }

  Napi::Value GetState(const Napi::CallbackInfo &info) {
    return Napi::String::New(info.Env(), StateName(obj_->state));
  }

  // setInitial(section, offset, bytes)
  Napi::Value SetInitial(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string section = Str(info, 0, "section");
    Require(env, *obj_, Need::Opened, "setInitial('" + section + "')");
    int64_t offset = Int(info, 1, "offset");
    if (offset < 0)
      throw Napi::RangeError::New(env, "setInitial: offset must be >= 0");
    Bytes b = View(info, 2, "bytes");
    int r = api().set_initial(obj_->c, section.c_str(), (size_t)offset, b.data, b.len);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return env.Undefined();
  }

  Napi::Value SetAutoload(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Opened, "setAutoload('" + program + "')");
    int r = api().set_autoload(obj_->c, program.c_str(), info[1].ToBoolean().Value() ? 1 : 0);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return env.Undefined();
  }

  bool IsReadOnlyAfterLoad(const std::string &section) {
    struct coolbpf_map_info mi;
    return api().map_info(obj_->c, section.c_str(), &mi) == 0 && (mi.flags & kBpfFRdonlyProg);
  }

  Napi::Value Load(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Require(env, *obj_, Need::Opened, "load()");
    int r = api().load(obj_->c);
    if (r < 0) {
      obj_->loadFailed = true;
      ThrowAbi(env, api(), r);
    }
    obj_->state = State::Loaded;
    // libbpf re-maps each section's image onto its map at the same address:
    // .data/.bss stay writable (the same ArrayBuffer goes on working), but
    // .rodata becomes read-only, where a write through an old view would
    // fault; those views are detached, and section() gives a new one.
    for (auto it = buffers_.begin(); it != buffers_.end();) {
      Napi::ArrayBuffer ab = it->ref.Value();
      if (ab.IsEmpty()) {
        it = buffers_.erase(it);
        continue;
      }
      if (IsReadOnlyAfterLoad(it->section)) {
        ab.Detach();
        it = buffers_.erase(it);
        continue;
      }
      ++it;
    }
    return env.Undefined();
  }

  Napi::Value Attach(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Require(env, *obj_, Need::Loaded, "attach()");
    if (obj_->state == State::Attached)
      Throw(env, "attach(): the object's programs are already attached", "ESTATE", 0);
    int r = api().attach(obj_->c);
    if (r < 0)
      ThrowAbi(env, api(), r);
    obj_->state = State::Attached;
    return env.Undefined();
  }

  Napi::Value Link(Napi::Env env, int r) {
    if (r < 0)
      ThrowAbi(env, api(), r);
    return Napi::Number::New(env, r);
  }

  // attachUprobe(program, binary, symbol|null, offset, pid, retprobe)
  Napi::Value AttachUprobe(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachUprobe('" + program + "')");
    std::string binary = Str(info, 1, "binary"), symbol;
    bool hasSymbol = OptStr(info, 2, symbol, "symbol");
    uint64_t offset = U64(info, 3, "offset");
    int pid = info[4].IsNumber() ? info[4].As<Napi::Number>().Int32Value() : -1;
    return Link(env, api().attach_uprobe(obj_->c, program.c_str(), binary.c_str(), hasSymbol ? symbol.c_str() : nullptr,
                                         offset, pid, info[5].ToBoolean().Value() ? 1 : 0));
  }

  // attachKprobe(program, function, offset, retprobe)
  Napi::Value AttachKprobe(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachKprobe('" + program + "')");
    std::string fn = Str(info, 1, "function");
    return Link(env, api().attach_kprobe(obj_->c, program.c_str(), fn.c_str(), U64(info, 2, "offset"),
                                         info[3].ToBoolean().Value() ? 1 : 0));
  }

  Napi::Value AttachTracepoint(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachTracepoint('" + program + "')");
    std::string cat = Str(info, 1, "category"), name = Str(info, 2, "name");
    return Link(env, api().attach_tracepoint(obj_->c, program.c_str(), cat.c_str(), name.c_str()));
  }

  Napi::Value AttachRawTracepoint(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachRawTracepoint('" + program + "')");
    std::string name = Str(info, 1, "name");
    return Link(env, api().attach_raw_tracepoint(obj_->c, program.c_str(), name.c_str()));
  }

  Napi::Value AttachXdp(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachXdp('" + program + "')");
    return Link(env, api().attach_xdp(obj_->c, program.c_str(), (int)Int(info, 1, "ifindex"),
                                      (uint32_t)Int(info, 2, "flags")));
  }

  Napi::Value AttachTc(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachTc('" + program + "')");
    return Link(env, api().attach_tc(obj_->c, program.c_str(), (int)Int(info, 1, "ifindex"),
                                     info[2].ToBoolean().Value() ? 1 : 0));
  }

  Napi::Value AttachCgroup(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachCgroup('" + program + "')");
    std::string path = Str(info, 1, "cgroupPath");
    return Link(env, api().attach_cgroup(obj_->c, program.c_str(), path.c_str()));
  }

  Napi::Value AttachPerfEvent(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string program = Str(info, 0, "program");
    Require(env, *obj_, Need::Loaded, "attachPerfEvent('" + program + "')");
    return Link(env, api().attach_perf_event(obj_->c, program.c_str(), (int)Int(info, 1, "perfEventFd")));
  }

  // detach(linkId): a no-op once the object is destroyed (destroy released it)
  Napi::Value Detach(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (obj_->state == State::Destroyed)
      return env.Undefined();
    int r = api().detach(obj_->c, (int)Int(info, 0, "link id"));
    if (r < 0)
      ThrowAbi(env, api(), r);
    return env.Undefined();
  }

  // section(name) -> [ArrayBuffer, readOnly]. Writable sections give an
  // external ArrayBuffer over the memory itself (one per section, reused);
  // a read-only section after load gives a copy of its frozen contents.
  Napi::Value Section(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string section = Str(info, 0, "section");
    Require(env, *obj_, Need::NotDestroyed, "section('" + section + "')");
    size_t size = 0;
    void *p = api().data(obj_->c, section.c_str(), &size);
    if (!p)
      ThrowAbi(env, api(), -1);
    Napi::Array out = Napi::Array::New(env, 2);
    if (obj_->state != State::Opened && IsReadOnlyAfterLoad(section)) {
      Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, size);
      memcpy(copy.Data(), p, size);
      out.Set(0u, copy);
      out.Set(1u, Napi::Boolean::New(env, true));
      return out;
    }
    for (auto it = buffers_.begin(); it != buffers_.end();) {
      Napi::ArrayBuffer ab = it->ref.Value();
      if (ab.IsEmpty()) {
        it = buffers_.erase(it);
        continue;
      }
      if (it->section == section && ab.Data() == p && ab.ByteLength() == size) {
        out.Set(0u, ab);
        out.Set(1u, Napi::Boolean::New(env, false));
        return out;
      }
      ++it;
    }
    auto *hold = new std::shared_ptr<Obj>(obj_);
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
        env, p, size, [](Napi::Env, void *, std::shared_ptr<Obj> *h) { delete h; }, hold);
    buffers_.push_back({section, Napi::Reference<Napi::ArrayBuffer>::New(ab, 0)});
    out.Set(0u, ab);
    out.Set(1u, Napi::Boolean::New(env, false));
    return out;
  }

  Napi::Value Map(const Napi::CallbackInfo &info);
  Napi::Value Events(const Napi::CallbackInfo &info);

  Napi::Value Destroy(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (obj_->state == State::Destroyed)
      return env.Undefined();
    for (auto &b : buffers_) {
      Napi::ArrayBuffer ab = b.ref.Value();
      if (!ab.IsEmpty() && !ab.IsDetached())
        ab.Detach();
    }
    buffers_.clear();
    obj_->Destroy();
    return env.Undefined();
  }
};

Napi::Value Library::Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string btf;
  bool hasBtf = OptStr(info, 0, btf, "btfPath");
  coolbpf_open_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  opts.btf_path = hasBtf ? btf.c_str() : nullptr;
  opts.log_level = (int)Int(info, 1, "logLevel");
  opts.log_fd = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : -1;
  coolbpf *c = api_->open(&opts);
  if (!c)
    ThrowAbi(env, *api_, -1);
  auto obj = std::make_shared<Obj>();
  obj->api = api_;
  obj->c = c;
  auto *p = new std::shared_ptr<Obj>(std::move(obj));
  return Inst(env).objectClass.New({Napi::External<std::shared_ptr<Obj>>::New(env, p)});
}

// ---------------------------------------------------------------- maps

class Map : public Napi::ObjectWrap<Map> {
public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeMap",
                       {
                           InstanceMethod<&Map::Info>("info"),
                           InstanceMethod<&Map::Fd>("fd"),
                           InstanceMethod<&Map::Lookup>("lookup"),
                           InstanceMethod<&Map::Update>("update"),
                           InstanceMethod<&Map::Delete>("delete"),
                           InstanceMethod<&Map::NextKey>("nextKey"),
                           InstanceMethod<&Map::LookupBatch>("lookupBatch"),
                       });
  }

  // new NativeMap(NativeObject, name): made by NativeObject.map only
  Map(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Map>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject())
      throw Napi::TypeError::New(env, "NativeMap is made by NativeObject.map()");
    Object *o = Object::Unwrap(info[0].As<Napi::Object>());
    if (!o)
      throw Napi::TypeError::New(env, "NativeMap is made by NativeObject.map()");
    obj_ = o->obj();
    name_ = Str(info, 1, "map");
    Require(env, *obj_, Need::NotDestroyed, "map('" + name_ + "')");
    int r = obj_->api->map_info(obj_->c, name_.c_str(), &info_);
    if (r < 0)
      ThrowAbi(env, *obj_->api, r);
    cursorSize_ = std::max<size_t>(info_.key_size, 8);
  }

private:
  std::shared_ptr<Obj> obj_;
  std::string name_;
  struct coolbpf_map_info info_;
  size_t cursorSize_ = 8;

  const Api &api() const { return *obj_->api; }

  void Loaded(Napi::Env env, const char *op) {
    if (obj_->state == State::Opened || obj_->state == State::Destroyed)
      Require(env, *obj_, Need::Loaded, "map '" + name_ + "': " + op);
  }

  void Fits(Napi::Env env, const Bytes &b, size_t need, const char *what, const char *op, bool exact) {
    if (exact ? b.len != need : b.len < need)
      Throw(env,
            "map '" + name_ + "': " + op + ": the " + what + " buffer is " + std::to_string(b.len) + " bytes, it must be " +
                (exact ? "" : "at least ") + std::to_string(need),
            "EINVAL", 22);
  }

  Napi::Value Info(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Require(env, *obj_, Need::NotDestroyed, "map '" + name_ + "': info()");
    int r = api().map_info(obj_->c, name_.c_str(), &info_);
    if (r < 0)
      ThrowAbi(env, api(), r);
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", info_.type);
    o.Set("keySize", info_.key_size);
    o.Set("valueSize", info_.value_size);
    o.Set("maxEntries", info_.max_entries);
    o.Set("flags", info_.flags);
    o.Set("fd", info_.fd);
    o.Set("perCpu", Napi::Boolean::New(env, info_.per_cpu != 0));
    o.Set("valueBufferSize", info_.value_buffer_size);
    return o;
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Loaded(env, "fd()");
    int r = api().map_fd(obj_->c, name_.c_str());
    if (r < 0)
      ThrowAbi(env, api(), r);
    return Napi::Number::New(env, r);
  }

  // lookup(key, out, flags) -> boolean
  Napi::Value Lookup(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Loaded(env, "lookup()");
    Bytes k = View(info, 0, "key"), v = View(info, 1, "out");
    Fits(env, k, info_.key_size, "key", "lookup()", false);
    uint64_t flags = info.Length() > 2 ? U64(info, 2, "flags") : 0;
    int r = api().map_lookup(obj_->c, name_.c_str(), k.data, v.data, v.len, flags);
    if (r == -ENOENT)
      return Napi::Boolean::New(env, false);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return Napi::Boolean::New(env, true);
  }

  Napi::Value Update(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Loaded(env, "update()");
    Bytes k = View(info, 0, "key"), v = View(info, 1, "value");
    Fits(env, k, info_.key_size, "key", "update()", false);
    uint64_t flags = info.Length() > 2 ? U64(info, 2, "flags") : 0;
    int r = api().map_update(obj_->c, name_.c_str(), k.data, v.data, v.len, flags);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return env.Undefined();
  }

  Napi::Value Delete(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Loaded(env, "delete()");
    Bytes k = View(info, 0, "key");
    Fits(env, k, info_.key_size, "key", "delete()", false);
    int r = api().map_delete(obj_->c, name_.c_str(), k.data);
    if (r == -ENOENT)
      return Napi::Boolean::New(env, false);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return Napi::Boolean::New(env, true);
  }

  // nextKey(key | null, out) -> boolean
  Napi::Value NextKey(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Loaded(env, "nextKey()");
    const void *kp = nullptr;
    if (!info[0].IsNull() && !info[0].IsUndefined()) {
      Bytes k = View(info, 0, "key");
      Fits(env, k, info_.key_size, "key", "nextKey()", false);
      kp = k.data;
    }
    Bytes out = View(info, 1, "out");
    Fits(env, out, info_.key_size, "out", "nextKey()", false);
    int r = api().map_next_key(obj_->c, name_.c_str(), kp, out.data);
    if (r == -ENOENT)
      return Napi::Boolean::New(env, false);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return Napi::Boolean::New(env, true);
  }

  // lookupBatch(cursor | null, nextCursor, keys, values, count)
  //   -> -1 when unsupported, else count * 2 + (done ? 1 : 0)
  Napi::Value LookupBatch(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Loaded(env, "lookupBatch()");
    const void *in = nullptr;
    if (!info[0].IsNull() && !info[0].IsUndefined()) {
      Bytes c = View(info, 0, "cursor");
      Fits(env, c, cursorSize_, "cursor", "lookupBatch()", false);
      in = c.data;
    }
    Bytes next = View(info, 1, "nextCursor"), keys = View(info, 2, "keys"), values = View(info, 3, "values");
    int64_t count = Int(info, 4, "count");
    if (count < 1 || count > 0x7fffffff)
      throw Napi::RangeError::New(env, "lookupBatch: count must be a positive integer");
    Fits(env, next, cursorSize_, "nextCursor", "lookupBatch()", false);
    Fits(env, keys, (size_t)count * info_.key_size, "keys", "lookupBatch()", false);
    Fits(env, values, (size_t)count * info_.value_buffer_size, "values", "lookupBatch()", false);
    uint32_t n = (uint32_t)count;
    int r = api().map_lookup_batch(obj_->c, name_.c_str(), in, next.data, keys.data, values.data, &n);
    if (r == -EOPNOTSUPP)
      return Napi::Number::New(env, -1);
    if (r < 0)
      ThrowAbi(env, api(), r);
    return Napi::Number::New(env, (double)n * 2 + (r == 1 ? 1 : 0));
  }
};

Napi::Value Object::Map(const Napi::CallbackInfo &info) {
  return Inst(info.Env()).mapClass.New({Value(), info[0]});
}

// ---------------------------------------------------------------- events

class Events : public Napi::ObjectWrap<Events> {
public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEvents",
                       {
                           InstanceMethod<&Events::Read>("read"),
                           InstanceMethod<&Events::Stats>("stats"),
                           InstanceMethod<&Events::Fd>("fd"),
                           InstanceMethod<&Events::Watch>("watch"),
                           InstanceMethod<&Events::Unwatch>("unwatch"),
                           InstanceMethod<&Events::Close>("close"),
                       });
  }

  // new NativeEvents(NativeObject, map, perfPages): made by NativeObject.events
  Events(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Events>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject())
      throw Napi::TypeError::New(env, "NativeEvents is made by NativeObject.events()");
    Object *o = Object::Unwrap(info[0].As<Napi::Object>());
    if (!o)
      throw Napi::TypeError::New(env, "NativeEvents is made by NativeObject.events()");
    std::shared_ptr<Obj> obj = o->obj();
    std::string map = Str(info, 1, "map");
    Require(env, *obj, Need::Loaded, "events('" + map + "')");
    int64_t pages = Int(info, 2, "perfPages");
    if (pages < 0)
      throw Napi::RangeError::New(env, "events: perfPages must be >= 0");
    coolbpf_events *e = obj->api->events_open(obj->c, map.c_str(), (size_t)pages);
    if (!e)
      ThrowAbi(env, *obj->api, -1);
    core_ = std::make_unique<EventsCore>();
    core_->obj = obj;
    core_->e = e;
    core_->map = map;
    core_->fd = obj->api->events_fd(e);
    obj->events.push_back(core_.get());
  }

private:
  std::unique_ptr<EventsCore> core_;

  coolbpf_events *Open(Napi::Env env, const char *op) {
    if (!core_->e) {
      if (core_->obj->state == State::Destroyed)
        Throw(env, "events '" + core_->map + "': " + op + ": the object was destroyed", "EDESTROYED", 0);
      Throw(env, "events '" + core_->map + "': " + op + ": the reader is closed", "ESTATE", 0);
    }
    return core_->e;
  }

  // read(buf) -> bytes used; never waits
  Napi::Value Read(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    coolbpf_events *e = Open(env, "read()");
    Bytes b = View(info, 0, "buf");
    int64_t n = core_->obj->api->events_read(e, b.data, b.len, 0);
    if (n < 0)
      ThrowAbi(env, *core_->obj->api, (int)n);
    return Napi::Number::New(env, (double)n);
  }

  Napi::Value Stats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (core_->e)
      core_->obj->api->events_stats(core_->e, &core_->records, &core_->lost);
    Napi::Array a = Napi::Array::New(env, 2);
    a.Set(0u, Napi::BigInt::New(env, core_->records));
    a.Set(1u, Napi::BigInt::New(env, core_->lost));
    return a;
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) {
    Open(info.Env(), "fd");
    return Napi::Number::New(info.Env(), core_->fd);
  }

  // watch(callback): callback(status) runs in the event loop whenever the
  // fd is readable (level-triggered) until unwatch() or close(). While
  // watching, the handle keeps the process alive.
  Napi::Value Watch(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Open(env, "watch()");
    if (!info[0].IsFunction())
      throw Napi::TypeError::New(env, "watch: callback must be a function");
    Poller *p = core_->poller;
    if (!p) {
      p = new Poller();
      p->env = env;
      p->handle.data = p;
      uv_loop_t *loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
        delete p;
        Throw(env, "events '" + core_->map + "': no libuv event loop", "EINVAL", 22);
      }
      int r = uv_poll_init(loop, &p->handle, core_->fd);
      if (r < 0) {
        delete p;
        Throw(env, "events '" + core_->map + "': uv_poll_init: " + uv_strerror(r), nullptr, -r);
      }
      p->initialized = true;
      napi_value name;
      napi_create_string_utf8(env, "coolbpf:events", NAPI_AUTO_LENGTH, &name);
      napi_async_init(env, nullptr, name, &p->context);
      core_->poller = p;
      napi_add_async_cleanup_hook(env, CleanupHook, core_.get(), &core_->cleanupHook);
    }
    p->callback.Reset(info[0].As<Napi::Function>(), 1);
    if (!p->active) {
      int r = uv_poll_start(&p->handle, UV_READABLE, OnPoll);
      if (r < 0)
        Throw(env, "events '" + core_->map + "': uv_poll_start: " + uv_strerror(r), nullptr, -r);
      p->active = true;
    }
    return env.Undefined();
  }

  // unwatch(): stops watching (the handle no longer keeps the loop alive)
  Napi::Value Unwatch(const Napi::CallbackInfo &info) {
    Poller *p = core_->poller;
    if (p && p->active) {
      uv_poll_stop(&p->handle);
      p->active = false;
      p->callback.Reset();
    }
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    core_->Close();
    return info.Env().Undefined();
  }
};

Napi::Value Object::Events(const Napi::CallbackInfo &info) {
  return Inst(info.Env()).eventsClass.New({Value(), info[0], info[1]});
}

// ---------------------------------------------------------------- module

Napi::Value SetErrorClass(const Napi::CallbackInfo &info) {
  if (!info[0].IsFunction())
    throw Napi::TypeError::New(info.Env(), "setErrorClass: expected a class");
  Inst(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Never unloaded (Node dlclose()s an addon with the last environment that
  // loaded it, e.g. a worker): libuv may still call into it while closing
  // handles, and the bpf.so files it opened stay loaded anyway.
  Dl_info self;
  if (dladdr(reinterpret_cast<void *>(&Init), &self) && self.dli_fname)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  auto *inst = new Instance();
  env.SetInstanceData(inst);
  Napi::Function obj = Object::Define(env), map = Map::Define(env), ev = Events::Define(env);
  inst->objectClass = Napi::Persistent(obj);
  inst->mapClass = Napi::Persistent(map);
  inst->eventsClass = Napi::Persistent(ev);
  exports.Set("Library", Library::Define(env));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("abiVersion", Napi::Number::New(env, COOLBPF_ABI_VERSION));
  return exports;
}

} // namespace

NODE_API_MODULE(coolbpf_node, Init)
