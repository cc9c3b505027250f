/** COOLBPF_ABI_VERSION of packages/runtime-c/include/coolbpf.h that generated code checks bpf.so against (a test keeps them equal). */
export const ABI_VERSION = 1;
