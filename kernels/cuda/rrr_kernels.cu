// btflearn GPU kernels: one RRR iteration over trials x items, as thin __global__ wrappers around the
// per-index device functions of btf_math.cuh (the maths lives there, once).
//
// Every kernel takes the same argument list (BTF_KERNEL_PARAMS) so the host launches them all with one
// tuple plus a last integer k (the iteration index for btf_close_kernel, n_iter for btf_trial_kernel,
// unused otherwise). Two launch layouts, same maths and same per-trial operation order as the Numba
// kernels (rrr_run / rrr_run_trials):
//
//   grid layout, per iteration:  btf_item_pass_kernel    (trial, item)   P_A, reflection, value concur
//                                btf_node_concur_kernel  (trial, node)   weight concur (item reduction)
//                                btf_weight_update_kernel(trial, item)   z_w update, gap
//                                btf_close_kernel        (trial)         gap, iters, status, pending
//                    then once:  btf_flush_kernel        (trial, item)   pending metric update
//   trial layout:                btf_trial_kernel        one block per trial, n_iter iterations in one
//                                                         launch, __syncthreads between the passes
//   both start with              btf_prepare_kernel      gap_out = -1, pending = 0
//
// Trials whose status is not RUNNING are left untouched. Loaded by btflearn.cupy_backend through
// cupy.RawModule (the header is inlined into the source there); compiled for the CPU by
// kernels/cuda/cpu_harness.cpp in the tests.
#include "btf_math.cuh"

#define BTF_KERNEL_PARAMS                                                                              \
    double *zw, double *zx, double *zy, double *g, double *wa, double *xa, double *ya, double *gap_node, \
        double *wb, double *item_gap, const btf_int *recv, const btf_int *in_start,                    \
        const btf_int *out_start, const btf_int *out_edges, const double *delta,                      \
        const btf_int *support, const double *inputs,                                                  \
        const double *labels, btf_int *iters, btf_int *status, double *gapstop, double *pending,       \
        double *gap_out, btf_int T, btf_int N, btf_int E, btf_int V, btf_int first_btf,                \
        btf_int first_output, btf_int input_mode, btf_int max_iter, btf_int n_cols, double beta,       \
        double gamma, btf_int k

#define BTF_KERNEL_ARGS                                                                                \
    zw, zx, zy, g, wa, xa, ya, gap_node, wb, item_gap, recv, in_start, out_start, out_edges, delta,    \
        support, inputs, labels, iters, status, gapstop, pending, gap_out, T, N, E, V, first_btf, first_output, \
        input_mode, max_iter, n_cols, beta, gamma, k

#define BTF_MAKE_CTX(c)                                                                                \
    BtfCtx c;                                                                                          \
    c.zw = zw; c.zx = zx; c.zy = zy; c.g = g; c.wa = wa; c.xa = xa; c.ya = ya; c.gap_node = gap_node; \
    c.wb = wb; c.item_gap = item_gap; c.recv = recv; c.in_start = in_start; c.out_start = out_start;   \
    c.out_edges = out_edges; c.delta = delta; c.support = support; c.inputs = inputs; c.labels = labels; c.iters = iters;  \
    c.status = status; c.gapstop = gapstop; c.pending = pending; c.gap_out = gap_out; c.T = T;        \
    c.N = N; c.E = E; c.V = V; c.first_btf = first_btf; c.first_output = first_output;                \
    c.input_mode = input_mode; c.max_iter = max_iter; c.n_cols = n_cols; c.beta = beta;               \
    c.gamma = gamma

#define BTF_GLOBAL_INDEX ((btf_int)blockIdx.x * (btf_int)blockDim.x + (btf_int)threadIdx.x)

extern "C" __global__ void btf_prepare_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int idx = BTF_GLOBAL_INDEX;
    (void)k;
    if (idx < c.T * c.n_cols) c.gap_out[idx] = -1.0;
    if (idx < c.T) c.pending[idx] = 0.0;
}

extern "C" __global__ void btf_item_pass_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int idx = BTF_GLOBAL_INDEX, t = idx / N;
    (void)k;
    if (idx < T * N && status[t] == BTF_RUNNING) btf_item_pass(&c, t, idx - t * N);
}

extern "C" __global__ void btf_node_concur_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int idx = BTF_GLOBAL_INDEX, n_btf = V - first_btf, t = idx / n_btf;
    (void)k;
    if (idx < T * n_btf && status[t] == BTF_RUNNING) btf_node_concur(&c, t, first_btf + idx - t * n_btf);
}

extern "C" __global__ void btf_weight_update_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int idx = BTF_GLOBAL_INDEX, t = idx / N;
    (void)k;
    if (idx < T * N && status[t] == BTF_RUNNING) btf_item_weight_update(&c, t, idx - t * N);
}

// k = the iteration index within this call (column of gap_out)
extern "C" __global__ void btf_close_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int t = BTF_GLOBAL_INDEX;
    if (t < T && status[t] == BTF_RUNNING) btf_close_iteration(&c, t, k);
}

extern "C" __global__ void btf_flush_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int idx = BTF_GLOBAL_INDEX, t = idx / N;
    (void)k;
    if (idx < T * N) btf_flush_metric(&c, t, idx - t * N);
}

// one block per trial (gridDim.x = T), k = n_iter
extern "C" __global__ void btf_trial_kernel(BTF_KERNEL_PARAMS)
{
    BTF_MAKE_CTX(c);
    btf_int t = (btf_int)blockIdx.x;
    if (t < T) btf_trial_run(&c, t, (btf_int)threadIdx.x, (btf_int)blockDim.x, k);   // uniform per block
}
