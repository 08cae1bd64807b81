// The two projections of btf_math.cuh as kernels over a batch of cases, one thread per case: the
// bilinear projection onto w . x = c and the BTF trio projection. Whole runs reach a projection's
// degenerate cases (zero vectors, w = +-x, a margin met exactly, a tie between the two signs) only by
// chance, so tests/test_cuda_device.py hands them to the device directly and compares with the NumPy
// reference. Not part of CupyBackend's module; the CPU harness (cpu_harness.cpp) builds them too.
//
// Case k: m[k] entries of w and x at offset k * ld (contiguous), results at the same offsets of wo and
// xo, and out[k] = the squared move (bilinear, c = a[k]) or y' (trio, y = a[k], delta = b[k]).
#include "btf_math.cuh"

#define BTF_CASE_PARAMS                                                                                 \
    const double *w, const double *x, const btf_int *m, const double *a, const double *b, btf_int n_cases, \
        btf_int ld, double *wo, double *xo, double *out

#define BTF_CASE_ARGS w, x, m, a, b, n_cases, ld, wo, xo, out

extern "C" __global__ void btf_bilinear_cases_kernel(BTF_CASE_PARAMS)
{
    btf_int k = (btf_int)blockIdx.x * (btf_int)blockDim.x + (btf_int)threadIdx.x;
    (void)b;
    if (k < n_cases)
        out[k] = btf_bilinear_project(w + k * ld, x + k * ld, 1, m[k], a[k], wo + k * ld, xo + k * ld, 1);
}

extern "C" __global__ void btf_trio_cases_kernel(BTF_CASE_PARAMS)
{
    btf_int k = (btf_int)blockIdx.x * (btf_int)blockDim.x + (btf_int)threadIdx.x;
    if (k < n_cases)
        out[k] = btf_trio_project(w + k * ld, x + k * ld, 1, m[k], a[k], b[k], wo + k * ld, xo + k * ld, 1);
}
