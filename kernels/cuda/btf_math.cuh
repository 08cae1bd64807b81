/* btflearn: the BTF projections, the concur projection and one RRR iteration as per-index functions.
 *
 * ONE definition of the maths for two compilers:
 *   - CUDA (nvcc / NVRTC through cupy.RawModule): BTF_DEVICE = __device__ __forceinline__;
 *   - the host C/C++ compiler (tests/test_cuda_math.py builds kernels/cuda/cpu_harness.cpp into a
 *     shared library): BTF_DEVICE = static inline, and the same functions run serially.
 * The file is plain C99 as well as C++ (no templates, no references, no standard headers under CUDA,
 * which NVRTC does not provide).
 *
 * The specification is kernels/reference.py; the operation order follows kernels/numba_kernels.py
 * (per-pass helpers _item_pass, _node_concur, _item_weight_update, _close_iteration, _flush_metric) so
 * that all three agree to rounding.
 *
 * Device layout: the item index is the fastest axis, so that consecutive GPU threads (consecutive
 * items) read consecutive addresses:
 *   zw, zx, wa, xa        (T, E, N)   element (t, e, i) at (t*E + e)*N + i
 *   zy, g, ya, gap_node   (T, V, N)   element (t, v, i) at (t*V + v)*N + i
 *   wb (T, E), item_gap (T, N), gap_out (T, n_cols), iters/status/gapstop/pending (T,)
 *   inputs (N, n_in) and labels (N, n_out) row-major, n_in = first_btf - 1, n_out = V - first_output.
 * (SolverState holds (T, N, E) / (T, N, V); the backends transpose on upload and download.)
 */
#ifndef BTF_MATH_CUH
#define BTF_MATH_CUH

#if defined(__CUDACC__)
#define BTF_DEVICE __device__ __forceinline__
#define BTF_SYNC() __syncthreads()
#define BTF_SQRT(v) sqrt(v)
#define BTF_FABS(v) fabs(v)
#else
#include <math.h>
#define BTF_DEVICE static inline
#define BTF_SYNC() ((void)0)
#define BTF_SQRT(v) sqrt(v)
#define BTF_FABS(v) fabs(v)
#endif

/* must equal kernels/reference.py (a test compares them) */
#define BTF_NEWTON_MAXIT 100
#define BTF_NEWTON_RTOL 1e-12
#define BTF_DEGENERATE 1e-28

/* trial status codes (btflearn.backends) */
#define BTF_RUNNING 0
#define BTF_BELOW_GAPSTOP 1
#define BTF_AT_MAX_ITER 2

/* input modes (kernels/graph.py) */
#define BTF_INPUT_DATA 0
#define BTF_INPUT_BINARY 1
#define BTF_INPUT_ONEHOT 2

typedef long long btf_int;

/* ------------------------------------------------------------------------------------------------ */
/* Bilinear projection onto {(w, x): w . x = c}                                                      */
/* ------------------------------------------------------------------------------------------------ */
/* The nearest point is w' = alpha (w+x) - beta (x-w), x' = alpha (w+x) + beta (x-w) with
 * alpha = 1/(2(1-u)), beta = 1/(2(1+u)), u in (-1,1) the root of G(u) = c, G increasing (see the
 * reference). Raising (w.x < c) solves for s = 1-u, lowering for s = 1+u, in both cases the root in
 * (0, 1] of H(s) = (P/s^2 - Q/(2-s)^2)/2 - C, with a safeguarded Newton iteration from s = 1.
 * When P is (relatively) zero and C >= -Q/8 no root exists: the pole vector (w+x when raising, x-w
 * when lowering) takes the length that reaches c along its own direction (all-ones if it is zero). */

#define BTF_BIL_KEEP 0
#define BTF_BIL_REGULAR 1
#define BTF_BIL_DEGENERATE 2

typedef struct {
    int mode;        /* BTF_BIL_KEEP (w.x == c), BTF_BIL_REGULAR or BTF_BIL_DEGENERATE */
    int raise;       /* 1: w.x < c (root u > 0), 0: w.x > c */
    double alpha;    /* regular: w' = alpha su - beta dv, x' = alpha su + beta dv */
    double beta;
    double r;        /* degenerate: new length of the pole vector (times sqrt 2) */
    double norm;     /* degenerate: |pole vector| (0: all-ones direction) */
    double unit;     /* degenerate: 1/sqrt(m) */
} BtfBilinear;

/* The parameters of "keep (w, x)": every field set, so no path reads an uninitialised value. */
BTF_DEVICE BtfBilinear btf_bilinear_keep(void)
{
    BtfBilinear b;
    b.mode = BTF_BIL_KEEP; b.raise = 0; b.alpha = 0.5; b.beta = 0.5; b.r = 0.0; b.norm = 0.0; b.unit = 0.0;
    return b;
}

/* Root s in (0, 1] of (P/s^2 - Q/(2-s)^2)/2 = C; requires H(1) < 0 and a root. */
BTF_DEVICE double btf_solve_pole(double P, double Q, double C)
{
    double s = 1.0, lo = 0.0, hi = 1.0;
    int k;
    for (k = 0; k < BTF_NEWTON_MAXIT; ++k) {
        double r = 2.0 - s;
        double h = 0.5 * (P / (s * s) - Q / (r * r)) - C;
        double dh = -(P / (s * s * s) + Q / (r * r * r));
        double snew;
        int done;
        if (h > 0) lo = s; else hi = s;
        snew = s - h / dh;
        /* bisect when the step leaves the bracket, unless it is already below the tolerance (at the
           root s is a bracket end; see reference._solve_pole); NaN steps bisect too */
        if (!(snew > lo && snew < hi) && !(BTF_FABS(snew - s) <= BTF_NEWTON_RTOL * s))
            snew = 0.5 * (lo + hi);
        done = BTF_FABS(snew - s) <= BTF_NEWTON_RTOL * snew;
        s = snew;
        if (done) break;
    }
    return s;
}

/* The parameters of the projection of (w, x) (m entries, stride ld) onto w . x = c. */
BTF_DEVICE BtfBilinear btf_bilinear_solve(const double *w, const double *x, btf_int ld, btf_int m, double c)
{
    BtfBilinear b = btf_bilinear_keep();
    double A = 0.0, B = 0.0, p = 0.0, P, Q, C;
    btf_int k;
    for (k = 0; k < m; ++k) {
        double wk = w[k * ld], xk = x[k * ld];
        double su = wk + xk, dv = xk - wk;
        A += su * su;
        B += dv * dv;
        p += wk * xk;
    }
    A *= 0.5;
    B *= 0.5;
    if (p < c) {
        b.raise = 1; P = A; Q = B; C = c;
    } else if (p > c) {
        b.raise = 0; P = B; Q = A; C = -c;
    } else {
        return b;   /* already on the level set (keep) */
    }
    if (P <= BTF_DEGENERATE * (P + Q + BTF_FABS(C)) && C >= -Q / 8.0) {
        double norm = 0.0, t = 2.0 * C + Q / 4.0;
        b.mode = BTF_BIL_DEGENERATE;
        b.r = BTF_SQRT(t > 0.0 ? t : 0.0) * BTF_SQRT(2.0);
        for (k = 0; k < m; ++k) {
            double wk = w[k * ld], xk = x[k * ld];
            double pk = b.raise ? (wk + xk) : (xk - wk);
            norm += pk * pk;
        }
        b.norm = BTF_SQRT(norm);
        b.unit = 1.0 / BTF_SQRT((double)m);
        return b;
    }
    {
        double s = btf_solve_pole(P, Q, C);
        b.mode = BTF_BIL_REGULAR;
        if (b.raise) { b.alpha = 0.5 / s; b.beta = 0.5 / (2.0 - s); }
        else { b.alpha = 0.5 / (2.0 - s); b.beta = 0.5 / s; }
    }
    return b;
}

/* Component k of the projection: (wk, xk) -> (*wo, *xo). */
BTF_DEVICE void btf_bilinear_entry(const BtfBilinear *b, double wk, double xk, double *wo, double *xo)
{
    double su = wk + xk, dv = xk - wk;
    if (b->mode == BTF_BIL_KEEP) {
        *wo = wk; *xo = xk;
    } else if (b->mode == BTF_BIL_REGULAR) {
        *wo = b->alpha * su - b->beta * dv;
        *xo = b->alpha * su + b->beta * dv;
    } else {
        double pk = b->raise ? su : dv;
        double ok = b->raise ? dv : su;
        double d = b->norm > 0 ? pk / b->norm : b->unit;
        double pn = b->r * d, on = 0.5 * ok;
        *wo = b->raise ? 0.5 * (pn - on) : 0.5 * (on - pn);
        *xo = 0.5 * (pn + on);
    }
}

/* Squared distance moved by the projection. */
BTF_DEVICE double btf_bilinear_cost(const BtfBilinear *b, const double *w, const double *x, btf_int ld, btf_int m)
{
    double cost = 0.0;
    btf_int k;
    if (b->mode == BTF_BIL_KEEP) return 0.0;
    for (k = 0; k < m; ++k) {
        double wk = w[k * ld], xk = x[k * ld], wn, xn;
        btf_bilinear_entry(b, wk, xk, &wn, &xn);
        cost += (wn - wk) * (wn - wk) + (xn - xk) * (xn - xk);
    }
    return cost;
}

/* Write the projection into (wo, xo) (stride ldo). wo/xo may alias w/x entrywise. */
BTF_DEVICE void btf_bilinear_apply(const BtfBilinear *b, const double *w, const double *x, btf_int ld, btf_int m,
                                   double *wo, double *xo, btf_int ldo)
{
    btf_int k;
    for (k = 0; k < m; ++k) {
        double wn, xn;
        btf_bilinear_entry(b, w[k * ld], x[k * ld], &wn, &xn);
        wo[k * ldo] = wn;
        xo[k * ldo] = xn;
    }
}

/* Projection onto w . x = c into (wo, xo); returns the squared move. */
BTF_DEVICE double btf_bilinear_project(const double *w, const double *x, btf_int ld, btf_int m, double c,
                                       double *wo, double *xo, btf_int ldo)
{
    BtfBilinear b = btf_bilinear_solve(w, x, ld, m, c);
    double cost = btf_bilinear_cost(&b, w, x, ld, m);
    btf_bilinear_apply(&b, w, x, ld, m, wo, xo, ldo);
    return cost;
}

/* ------------------------------------------------------------------------------------------------ */
/* BTF trio projection onto {y' = +-1, y' (w' . x') >= delta}                                       */
/* ------------------------------------------------------------------------------------------------ */
BTF_DEVICE void btf_copy_pair(const double *w, const double *x, btf_int ld, btf_int m, double *wo, double *xo,
                              btf_int ldo)
{
    btf_int k;
    for (k = 0; k < m; ++k) {
        wo[k * ldo] = w[k * ld];
        xo[k * ldo] = x[k * ld];
    }
}

/* Writes (wo, xo) (stride ldo) and returns y'. If y (w.x) > 0 the sign of y is kept (provably optimal);
 * otherwise both signs are evaluated (each keeps (w, x) when its margin holds) and the cheaper wins,
 * ties to +1. The -1 candidate is not stored: its parameters are kept and it is written only if chosen
 * (no scratch memory per thread). */
BTF_DEVICE double btf_trio_project(const double *w, const double *x, btf_int ld, btf_int m, double y, double delta,
                                   double *wo, double *xo, btf_int ldo)
{
    double p = 0.0, cp, cm;
    int keep_p, keep_m;
    BtfBilinear bp = btf_bilinear_keep(), bm = btf_bilinear_keep();
    btf_int k;
    for (k = 0; k < m; ++k) p += w[k * ld] * x[k * ld];
    if (y * p > 0) {
        double ys = y > 0 ? 1.0 : -1.0;
        if (ys * p >= delta) {
            btf_copy_pair(w, x, ld, m, wo, xo, ldo);
        } else {
            btf_bilinear_project(w, x, ld, m, ys * delta, wo, xo, ldo);
        }
        return ys;
    }
    keep_p = p >= delta;
    cp = (1.0 - y) * (1.0 - y);
    if (!keep_p) {
        bp = btf_bilinear_solve(w, x, ld, m, delta);
        cp += btf_bilinear_cost(&bp, w, x, ld, m);
    }
    keep_m = -p >= delta;
    cm = (-1.0 - y) * (-1.0 - y);
    if (!keep_m) {
        bm = btf_bilinear_solve(w, x, ld, m, -delta);
        cm += btf_bilinear_cost(&bm, w, x, ld, m);
    }
    if (cp <= cm) {
        if (keep_p) btf_copy_pair(w, x, ld, m, wo, xo, ldo);
        else btf_bilinear_apply(&bp, w, x, ld, m, wo, xo, ldo);
        return 1.0;
    }
    if (keep_m) btf_copy_pair(w, x, ld, m, wo, xo, ldo);
    else btf_bilinear_apply(&bm, w, x, ld, m, wo, xo, ldo);
    return -1.0;
}

/* ------------------------------------------------------------------------------------------------ */
/* The whole problem as the kernels see it                                                          */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    double *zw, *zx, *zy, *g;               /* state */
    double *wa, *xa, *ya, *gap_node;        /* scratch: P_A of the last iteration, per-node gap */
    double *wb, *item_gap;                  /* concurred weights (T, E), per-item gap (T, N) */
    const btf_int *recv, *in_start, *out_start, *out_edges;
    const double *delta, *inputs, *labels;
    const btf_int *support;                 /* (V,) gate projection support per node, 0 = off */
    btf_int *iters, *status;
    double *gapstop, *pending, *gap_out;    /* pending: mean gap whose metric update is still due */
    btf_int T, N, E, V, first_btf, first_output, input_mode, max_iter, n_cols;
    double beta, gamma;
} BtfCtx;

#define BTF_W(c, t, e, i) ((((t) * (c)->E) + (e)) * (c)->N + (i))
#define BTF_Y(c, t, v, i) ((((t) * (c)->V) + (v)) * (c)->N + (i))

/* A-projection of the input values of item i (bias excluded): data, free +-1, free one-hot. */
BTF_DEVICE void btf_input_values(const BtfCtx *c, btf_int t, btf_int i)
{
    btf_int n_in = c->first_btf - 1, j;
    if (c->input_mode == BTF_INPUT_DATA) {
        for (j = 0; j < n_in; ++j) c->ya[BTF_Y(c, t, 1 + j, i)] = c->inputs[i * n_in + j];
    } else if (c->input_mode == BTF_INPUT_BINARY) {
        for (j = 0; j < n_in; ++j) c->ya[BTF_Y(c, t, 1 + j, i)] = c->zy[BTF_Y(c, t, 1 + j, i)] >= 0 ? 1.0 : -1.0;
    } else {
        btf_int best = 0;   /* first maximum, as numpy.argmax */
        for (j = 0; j < n_in; ++j) {
            c->ya[BTF_Y(c, t, 1 + j, i)] = -1.0;
            if (c->zy[BTF_Y(c, t, 1 + j, i)] > c->zy[BTF_Y(c, t, 1 + best, i)]) best = j;
        }
        if (n_in > 0) c->ya[BTF_Y(c, t, 1 + best, i)] = 1.0;
    }
}

/* Metric update g <- g + gamma (gap / mean - g) of item i with the trial's mean gap (none if 0). */
BTF_DEVICE void btf_metric_update(const BtfCtx *c, btf_int t, btf_int i, double mean)
{
    btf_int n;
    if (mean > 0) {
        double inv = 1.0 / mean;
        for (n = c->first_btf; n < c->V; ++n) {
            btf_int k = BTF_Y(c, t, n, i);
            c->g[k] += c->gamma * (c->gap_node[k] * inv - c->g[k]);
        }
    }
}

/* Pass 1, per (trial, item): the pending metric update, P_A of every trio, the reflection, the value
 * concur over each sender's out-edges (outputs = labels), the RRR update of x and y, and the x/y part
 * of the gap. */
BTF_DEVICE void btf_item_pass(const BtfCtx *c, btf_int t, btf_int i)
{
    btf_int V = c->V, N = c->N, n, s, q;
    btf_int n_out = V - c->first_output;
    btf_metric_update(c, t, i, c->pending[t]);
    c->ya[BTF_Y(c, t, 0, i)] = -1.0;
    btf_input_values(c, t, i);
    for (n = c->first_btf; n < V; ++n) {
        btf_int lo = c->in_start[n], hi = c->in_start[n + 1];
        btf_int k0 = BTF_W(c, t, lo, i);
        btf_int ky = BTF_Y(c, t, n, i);
        c->ya[ky] = btf_trio_project(c->zw + k0, c->zx + k0, N, hi - lo, c->zy[ky], c->delta[n],
                                     c->wa + k0, c->xa + k0, N);
        c->gap_node[ky] = 0.0;
    }
    for (s = 0; s < V; ++s) {
        btf_int ks = BTF_Y(c, t, s, i);
        double v, d;
        if (s >= c->first_output) {
            v = c->labels[i * n_out + (s - c->first_output)];
        } else {
            double gs = c->g[ks];
            double num = gs * (2.0 * c->ya[ks] - c->zy[ks]);
            double den = gs;
            for (q = c->out_start[s]; q < c->out_start[s + 1]; ++q) {
                btf_int e = c->out_edges[q];
                btf_int ke = BTF_W(c, t, e, i);
                double ge = c->g[BTF_Y(c, t, c->recv[e], i)];
                num += ge * (2.0 * c->xa[ke] - c->zx[ke]);
                den += ge;
            }
            v = num / den;
        }
        d = v - c->ya[ks];
        c->zy[ks] += c->beta * d;
        if (s >= c->first_btf) c->gap_node[ks] += d * d;
        for (q = c->out_start[s]; q < c->out_start[s + 1]; ++q) {
            btf_int e = c->out_edges[q];
            btf_int ke = BTF_W(c, t, e, i);
            d = v - c->xa[ke];
            c->zx[ke] += c->beta * d;
            c->gap_node[BTF_Y(c, t, c->recv[e], i)] += d * d;
        }
    }
}

/* Gate projection of one node's weights w (m of them) when s > 0: the s largest |w| (the first on ties)
 * keep their signs (0 counts as +) at +-sqrt(m / s), the rest become 0, as numpy's stable argsort of
 * -|w|. No scratch: the edge of rank s - 1 is found by counting, then one pass writes the gate. */
BTF_DEVICE void btf_support_project(double *w, btf_int m, btf_int s)
{
    btf_int j, f, cut = -1;
    double cut_abs = 0.0, mag;
    if (s <= 0) return;
    if (s > m) s = m;
    for (j = 0; j < m && cut < 0; ++j) {
        btf_int rank = 0;
        double a = BTF_FABS(w[j]);
        for (f = 0; f < m; ++f) {
            double b = BTF_FABS(w[f]);
            if (b > a || (b == a && f < j)) ++rank;
        }
        if (rank == s - 1) { cut = j; cut_abs = a; }
    }
    mag = BTF_SQRT((double)m / (double)s);
    for (j = 0; j < m; ++j) {
        double a = BTF_FABS(w[j]);
        int keep = a > cut_abs || (a == cut_abs && j <= cut);
        w[j] = keep ? (w[j] >= 0 ? mag : -mag) : 0.0;
    }
}

/* Pass 2, per (trial, BTF node): metric-weighted item mean of the reflected weights, |w_n|^2 = m_n. */
BTF_DEVICE void btf_node_concur(const BtfCtx *c, btf_int t, btf_int n)
{
    btf_int lo = c->in_start[n], hi = c->in_start[n + 1], N = c->N, i, e;
    double den = 0.0, norm = 0.0, scale;
    const double *gn = c->g + BTF_Y(c, t, n, 0);
    for (i = 0; i < N; ++i) den += gn[i];
    for (e = lo; e < hi; ++e) {
        const double *wae = c->wa + BTF_W(c, t, e, 0);
        const double *zwe = c->zw + BTF_W(c, t, e, 0);
        double acc = 0.0;
        for (i = 0; i < N; ++i) acc += gn[i] * (2.0 * wae[i] - zwe[i]);
        acc /= den;
        c->wb[t * c->E + e] = acc;
        norm += acc * acc;
    }
    norm = BTF_SQRT(norm);
    scale = BTF_SQRT((double)(hi - lo));
    for (e = lo; e < hi; ++e) {
        double *wbe = c->wb + t * c->E + e;
        *wbe = norm > 0 ? *wbe * scale / norm : 1.0;
    }
    btf_support_project(c->wb + t * c->E + lo, hi - lo, c->support[n]);
}

/* Pass 3, per (trial, item): z_w += beta (w_B - w_A) and the weight part of the gap; the item's total
 * gap goes to item_gap[t, i]. */
BTF_DEVICE void btf_item_weight_update(const BtfCtx *c, btf_int t, btf_int i)
{
    btf_int n, e;
    double total = 0.0;
    for (n = c->first_btf; n < c->V; ++n) {
        btf_int ky = BTF_Y(c, t, n, i);
        double acc = c->gap_node[ky];
        for (e = c->in_start[n]; e < c->in_start[n + 1]; ++e) {
            btf_int ke = BTF_W(c, t, e, i);
            double d = c->wb[t * c->E + e] - c->wa[ke];
            c->zw[ke] += c->beta * d;
            acc += d * d;
        }
        c->gap_node[ky] = acc;
        total += acc;
    }
    c->item_gap[t * c->N + i] = total;
}

/* Pass 4, per trial: reported gap sqrt(mean gap), iteration count, stopping rules, pending metric. */
BTF_DEVICE void btf_close_iteration(const BtfCtx *c, btf_int t, btf_int it)
{
    btf_int i, n_btf = c->V - c->first_btf;
    double total = 0.0, mean, gap;
    for (i = 0; i < c->N; ++i) total += c->item_gap[t * c->N + i];
    mean = total / (double)(c->N * n_btf);
    gap = BTF_SQRT(mean);
    c->gap_out[t * c->n_cols + it] = gap;
    c->iters[t] += 1;
    if (gap < c->gapstop[t]) c->status[t] = BTF_BELOW_GAPSTOP;
    else if (c->iters[t] >= c->max_iter) c->status[t] = BTF_AT_MAX_ITER;
    c->pending[t] = mean;
}

/* After the last iteration of a call, per (trial, item): apply the metric update still pending. */
BTF_DEVICE void btf_flush_metric(const BtfCtx *c, btf_int t, btf_int i)
{
    btf_metric_update(c, t, i, c->pending[t]);
}

/* Up to n_iter iterations of trial t by one block of nth threads (thread tid), barriers between the
 * passes; then the pending metric update. All threads read status[t] after a barrier, so the loop
 * exits uniformly. With nth = 1 (the CPU harness) this is the serial algorithm. The caller sets
 * pending[t] = 0 and gap_out[t, :] = -1 before. */
BTF_DEVICE void btf_trial_run(const BtfCtx *c, btf_int t, btf_int tid, btf_int nth, btf_int n_iter)
{
    btf_int it, k;
    for (it = 0; it < n_iter; ++it) {
        if (c->status[t] != BTF_RUNNING) break;
        for (k = tid; k < c->N; k += nth) btf_item_pass(c, t, k);
        BTF_SYNC();
        for (k = c->first_btf + tid; k < c->V; k += nth) btf_node_concur(c, t, k);
        BTF_SYNC();
        for (k = tid; k < c->N; k += nth) btf_item_weight_update(c, t, k);
        BTF_SYNC();
        if (tid == 0) btf_close_iteration(c, t, it);
        BTF_SYNC();
    }
    for (k = tid; k < c->N; k += nth) btf_flush_metric(c, t, k);
    BTF_SYNC();
    if (tid == 0) c->pending[t] = 0.0;
}

#endif /* BTF_MATH_CUH */
