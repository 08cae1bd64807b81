// CPU build of the GPU kernels, for the tests (tests/test_cuda_math.py compiles it into a temporary
// shared library and loads it with ctypes). It includes rrr_kernels.cu itself, so the __global__
// kernels and the device functions of btf_math.cuh run here exactly as written for the GPU: the CUDA
// built-ins (blockIdx, threadIdx, blockDim, gridDim) are emulated and every launch loops over its grid
// serially. The trial layout (one block per trial, barriers between passes) runs with one thread per
// block, where the barriers are no-ops and the per-thread loops cover every index.
//
// projection_kernels.cu (single projections over a batch of cases) is built the same way.
//
// Build: c++ -O2 -std=c++11 -shared -fPIC -ffp-contract=off -Wall -Werror cpu_harness.cpp -o harness.so
#include <stddef.h>

struct btf_dim3 { unsigned int x, y, z; };
static btf_dim3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__

#include "rrr_kernels.cu"
#include "projection_kernels.cu"

// cpu_NAME(grid, block, ...) runs kernel NAME serially over every block and thread of a 1-D launch;
// PARAMS and ARGS are the kernel's parameter list and the matching argument list.
#define BTF_CPU_GRID(name, PARAMS, ARGS)                                                    \
    extern "C" void cpu_##name(unsigned int grid, unsigned int block, PARAMS)               \
    {                                                                                       \
        gridDim.x = grid; gridDim.y = gridDim.z = 1;                                        \
        blockDim.x = block; blockDim.y = blockDim.z = 1;                                    \
        for (blockIdx.x = 0; blockIdx.x < grid; ++blockIdx.x)                               \
            for (threadIdx.x = 0; threadIdx.x < block; ++threadIdx.x) name(ARGS);           \
    }

BTF_CPU_GRID(btf_prepare_kernel, BTF_KERNEL_PARAMS, BTF_KERNEL_ARGS)
BTF_CPU_GRID(btf_item_pass_kernel, BTF_KERNEL_PARAMS, BTF_KERNEL_ARGS)
BTF_CPU_GRID(btf_node_concur_kernel, BTF_KERNEL_PARAMS, BTF_KERNEL_ARGS)
BTF_CPU_GRID(btf_weight_update_kernel, BTF_KERNEL_PARAMS, BTF_KERNEL_ARGS)
BTF_CPU_GRID(btf_close_kernel, BTF_KERNEL_PARAMS, BTF_KERNEL_ARGS)
BTF_CPU_GRID(btf_flush_kernel, BTF_KERNEL_PARAMS, BTF_KERNEL_ARGS)
BTF_CPU_GRID(btf_bilinear_cases_kernel, BTF_CASE_PARAMS, BTF_CASE_ARGS)
BTF_CPU_GRID(btf_trio_cases_kernel, BTF_CASE_PARAMS, BTF_CASE_ARGS)

// One block per trial: threads of a block synchronise, so the serial emulation runs one thread.
extern "C" void cpu_btf_trial_kernel(unsigned int grid, unsigned int block, BTF_KERNEL_PARAMS)
{
    (void)block;
    gridDim.x = grid; gridDim.y = gridDim.z = 1;
    blockDim.x = 1; blockDim.y = blockDim.z = 1;
    threadIdx.x = 0;
    for (blockIdx.x = 0; blockIdx.x < grid; ++blockIdx.x) btf_trial_kernel(BTF_KERNEL_ARGS);
}

// ---- single projections (contiguous vectors) ----
extern "C" double btf_cpu_bilinear(const double *w, const double *x, long long m, double c, double *wo,
                                   double *xo)
{
    return btf_bilinear_project(w, x, 1, m, c, wo, xo, 1);
}

extern "C" double btf_cpu_trio(const double *w, const double *x, long long m, double y, double delta,
                               double *wo, double *xo)
{
    return btf_trio_project(w, x, 1, m, y, delta, wo, xo, 1);
}

static unsigned int btf_blocks(btf_int count, unsigned int block)
{
    return (unsigned int)((count + block - 1) / block);
}

// ---- a whole run: the launch sequence of btflearn.cupy_backend, k = n_iter; trial_layout 0: grid ----
extern "C" void btf_cpu_rrr_run(int trial_layout, BTF_KERNEL_PARAMS)
{
    const unsigned int B = 64;
    btf_int n_iter = k, it;
    cpu_btf_prepare_kernel(btf_blocks(T * n_cols > T ? T * n_cols : T, B), B, BTF_KERNEL_ARGS);
    if (trial_layout) {
        cpu_btf_trial_kernel((unsigned int)T, B, BTF_KERNEL_ARGS);
        return;
    }
    for (it = 0; it < n_iter; ++it) {
        k = it;
        cpu_btf_item_pass_kernel(btf_blocks(T * N, B), B, BTF_KERNEL_ARGS);
        cpu_btf_node_concur_kernel(btf_blocks(T * (V - first_btf), B), B, BTF_KERNEL_ARGS);
        cpu_btf_weight_update_kernel(btf_blocks(T * N, B), B, BTF_KERNEL_ARGS);
        cpu_btf_close_kernel(btf_blocks(T, B), B, BTF_KERNEL_ARGS);
    }
    cpu_btf_flush_kernel(btf_blocks(T * N, B), B, BTF_KERNEL_ARGS);
}
