{
  # The native half of @coolbpf/node. It links neither libbpf nor the coolbpf
  # runtime: every bpf.so carries both, and the addon reaches them through
  # dlopen()/dlsym() at run time. coolbpf.h is used for its types only.
  "targets": [
    {
      "target_name": "coolbpf_node",
      "sources": ["native/addon.cc"],
      "include_dirs": ["../runtime-c/include"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "libraries": ["-ldl"]
    }
  ]
}
