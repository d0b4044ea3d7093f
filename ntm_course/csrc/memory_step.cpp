// The NTM's memory step, fused: head activations, addressing (eqs. 5-9), write (eqs. 3-4) and read (eq. 2) of
// every head, forward and backward, in one call each. The reference is ntm_course/step.py (composed_step on the
// library's functions, ntm_course/heads.py's activations); ntm_course/fused.py loads this file (built on first use)
// and wraps it in a torch.autograd.Function. Plain C++ on contiguous arrays, no torch headers: it compiles in
// seconds. One batch element at a time, one thread. At the end, an LSTM cell's pointwise part (lstm_forward,
// lstm_backward), the rest of the NTM's step that the fast path fuses.
//
// Shapes (row-major, contiguous): memory (B, N, M); raw (B, W*Pw + R*Pr): the write heads' raw controller outputs,
// then the read heads', each in the layout of heads.py (key M, beta, g, s K, gamma, then erase M, add M for a write
// head); weightings (B, H, N); reads (B, R, M); work (B, S) with S = work_size(...): what backward needs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#if defined(NTM_VECTOR_MATH)   // glibc's vector maths (libmvec, -lmvec): loops of exp and log take 8 at a time
extern "C" {
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
double log(double);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
double tanh(double);
}
#endif

namespace {

inline float vexp(float x) { return expf(x); }
inline double vexp(double x) { return exp(x); }
inline float vlog(float x) { return logf(x); }
inline float vtanh(float x) { return tanhf(x); }
inline double vtanh(double x) { return tanh(x); }
inline double vlog(double x) { return log(x); }

struct Shape {
    int64_t N, M, K, W, R, Pw, Pr, P, S;
    double clip, eps2;
};

Shape make_shape(int64_t N, int64_t M, int64_t K, int64_t W, int64_t R, double clip, double eps2) {
    Shape s{N, M, K, W, R, 0, 0, 0, 0, clip, eps2};
    s.Pr = M + K + 3;
    s.Pw = s.Pr + 2 * M;
    s.P = W * s.Pw + R * s.Pr;
    s.S = 2 * N + W * (7 * N + s.Pw) + R * (7 * N + s.Pr);   // row norms of both memories, then each head's block
    return s;
}

// Where head h's block starts in a batch element's work (the write heads first, then the read heads).
inline int64_t head_offset(const Shape& s, int64_t h) {
    return 2 * s.N + (h < s.W ? h * (7 * s.N + s.Pw) : s.W * (7 * s.N + s.Pw) + (h - s.W) * (7 * s.N + s.Pr));
}

template <typename T> T softplus(T x) { return x > T(20) ? x : std::log1p(std::exp(x)); }   // torch's threshold 20
template <typename T> T softplus_grad(T x) { return x > T(20) ? T(1) : T(1) / (T(1) + std::exp(-x)); }
template <typename T> T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }
template <typename T> T clamp(T x, T c) { return std::min(std::max(x, -c), c); }
// Offset k's shift as a rotation in [0, N): row i's weight comes from row i - o_k (mod N) = i + back(k) (mod N).
inline int64_t back(int64_t k, int64_t K, int64_t N) { int64_t r = -(k - K / 2) % N; return r < 0 ? r + N : r; }

template <typename T> void softmax(const T* __restrict__ z, T* __restrict__ out, int64_t n) {
    T top = -std::numeric_limits<T>::infinity(), sum = 0;
#pragma omp simd reduction(max : top)
    for (int64_t i = 0; i < n; ++i) top = z[i] > top ? z[i] : top;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = vexp(z[i] - top);
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += out[i];
    const T scale = T(1) / sum;
    for (int64_t i = 0; i < n; ++i) out[i] *= scale;
}

// A head's block of the work array: its intermediate weightings, then its activated parameters (raw's layout).
template <typename T> struct Head {
    T *dot, *sim, *wc, *wg, *ws, *lw, *p, *act;     // lw: log max(ws, tiny)
    Head(T* block, int64_t N) : dot(block), sim(block + N), wc(block + 2 * N), wg(block + 3 * N), ws(block + 4 * N),
                                lw(block + 5 * N), p(block + 6 * N), act(block + 7 * N) {}
};

template <typename T> void activate(const T* raw, T* act, const Shape& s, bool write) {
    const int64_t M = s.M, K = s.K;
    const T c = T(s.clip);
    for (int64_t j = 0; j < M; ++j) act[j] = clamp(raw[j], c);
    act[M] = softplus(clamp(raw[M], c));
    act[M + 1] = sigmoid(clamp(raw[M + 1], c));
    std::vector<T> z(K);
    for (int64_t k = 0; k < K; ++k) z[k] = clamp(raw[M + 2 + k], c);
    softmax(z.data(), act + M + 2, K);
    act[M + 2 + K] = T(1) + softplus(clamp(raw[M + 2 + K], c));
    if (write) {
        for (int64_t j = 0; j < M; ++j) act[M + 3 + K + j] = sigmoid(clamp(raw[M + 3 + K + j], c));
        for (int64_t j = 0; j < M; ++j) act[2 * M + 3 + K + j] = std::tanh(clamp(raw[2 * M + 3 + K + j], c));
    }
}

template <typename T> void activate_backward(const T* raw, const T* act, T* g, const Shape& s, bool write) {
    // g holds d loss / d act on entry (raw's layout) and d loss / d raw on exit.
    const int64_t M = s.M, K = s.K, P = write ? s.Pw : s.Pr;
    const T c = T(s.clip);
    g[M] *= softplus_grad(clamp(raw[M], c));
    g[M + 1] *= act[M + 1] * (T(1) - act[M + 1]);
    T dot = 0;
    for (int64_t k = 0; k < K; ++k) dot += act[M + 2 + k] * g[M + 2 + k];
    for (int64_t k = 0; k < K; ++k) g[M + 2 + k] = act[M + 2 + k] * (g[M + 2 + k] - dot);
    g[M + 2 + K] *= softplus_grad(clamp(raw[M + 2 + K], c));
    if (write) {
        for (int64_t j = M + 3 + K; j < 2 * M + 3 + K; ++j) g[j] *= act[j] * (T(1) - act[j]);
        for (int64_t j = 2 * M + 3 + K; j < P; ++j) g[j] *= T(1) - act[j] * act[j];
    }
    for (int64_t j = 0; j < P; ++j)
        if (!(raw[j] >= -c && raw[j] <= c)) g[j] = 0;            // clamp passes the gradient inside its bounds
}

// out(i) = sum_j mem(i, j) v(j), or sum_j mem(i, j)^2 without v: four rows at a time, so that four sums are under
// way at once (a single sum of M terms waits on each addition in turn).
template <typename T> void row_dots(const T* __restrict__ mem, const T* __restrict__ v, T* __restrict__ out,
                                    const Shape& s) {
    const int64_t N = s.N, M = s.M;
    int64_t i = 0;
    for (; i + 4 <= N; i += 4) {
        const T *r0 = mem + i * M, *r1 = r0 + M, *r2 = r1 + M, *r3 = r2 + M;
        T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int64_t j = 0; j < M; ++j) {
            const T x = v ? v[j] : T(1);
            a0 += r0[j] * (v ? x : r0[j]);
            a1 += r1[j] * (v ? x : r1[j]);
            a2 += r2[j] * (v ? x : r2[j]);
            a3 += r3[j] * (v ? x : r3[j]);
        }
        out[i] = a0, out[i + 1] = a1, out[i + 2] = a2, out[i + 3] = a3;
    }
    for (; i < N; ++i) {
        T a = 0;
        for (int64_t j = 0; j < M; ++j) a += mem[i * M + j] * (v ? v[j] : mem[i * M + j]);
        out[i] = a;
    }
}

template <typename T> void row_norms(const T* mem, T* nm2, const Shape& s) { row_dots<T>(mem, nullptr, nm2, s); }

// Eqs. 5-9 for one head: content (cosine, beta, softmax), interpolation, shift, sharpening -> w (N).
template <typename T> void address(const T* __restrict__ mem, const T* __restrict__ nm2, Head<T> h,
                                   const T* __restrict__ w_prev, T* __restrict__ w, const Shape& s) {
    const int64_t N = s.N, M = s.M, K = s.K;
    const T* key = h.act;
    const T beta = h.act[M], g = h.act[M + 1], gamma = h.act[M + 2 + K];
    const T* shift = h.act + M + 2;
    T nk2 = 0;
    for (int64_t j = 0; j < M; ++j) nk2 += key[j] * key[j];
    row_dots(mem, key, h.dot, s);
    for (int64_t i = 0; i < N; ++i) h.sim[i] = h.dot[i] / std::sqrt(std::max(nk2 * nm2[i], T(s.eps2)));
    std::vector<T> z(N);
    for (int64_t i = 0; i < N; ++i) z[i] = beta * h.sim[i];
    softmax(z.data(), h.wc, N);
    for (int64_t i = 0; i < N; ++i) h.wg[i] = w_prev[i] + g * (h.wc[i] - w_prev[i]);
    std::fill(h.ws, h.ws + N, T(0));
    for (int64_t k = 0; k < K; ++k) {                              // ws(i) = sum_k s_k wg(i - o_k)
        const int64_t r = back(k, K, N);
        for (int64_t i = 0; i < N; ++i) h.ws[i] += shift[k] * h.wg[i + r < N ? i + r : i + r - N];
    }
    const T tiny = std::numeric_limits<T>::min();
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) h.lw[i] = vlog(h.ws[i] > tiny ? h.ws[i] : tiny);
    for (int64_t i = 0; i < N; ++i) z[i] = gamma * h.lw[i];
    softmax(z.data(), h.p, N);
    for (int64_t i = 0; i < N; ++i) w[i] = h.ws[i] > 0 ? h.p[i] : T(0);
}

// The backward of address(): gw (N, d loss / d w) -> adds to gmem (N, M), writes gact (key .. gamma) and gw_prev.
template <typename T> void address_backward(const T* __restrict__ mem, const T* __restrict__ nm2, Head<T> h,
                                            const T* __restrict__ w_prev, const T* __restrict__ gw,
                                            T* __restrict__ gmem, T* __restrict__ gact, T* __restrict__ gw_prev,
                                            const Shape& s) {
    const int64_t N = s.N, M = s.M, K = s.K;
    const T* key = h.act;
    const T beta = h.act[M], g = h.act[M + 1], gamma = h.act[M + 2 + K];
    const T* shift = h.act + M + 2;
    const T tiny = std::numeric_limits<T>::min();
    std::vector<T> gz(N), gwg(N, T(0));
    T dot = 0;                                                     // sharpening: w = softmax(gamma log ws) [ws > 0]
    for (int64_t i = 0; i < N; ++i) dot += h.ws[i] > 0 ? h.p[i] * gw[i] : T(0);
    T ggamma = 0;
    for (int64_t i = 0; i < N; ++i) {
        gz[i] = h.p[i] * ((h.ws[i] > 0 ? gw[i] : T(0)) - dot);
        ggamma += gz[i] * h.lw[i];
    }
    for (int64_t i = 0; i < N; ++i) gz[i] = h.ws[i] >= tiny ? gz[i] * gamma / h.ws[i] : T(0);   // now d/d ws
    for (int64_t k = 0; k < K; ++k) {                              // shift: ws(i) = sum_k s_k wg(i - o_k)
        const int64_t r = back(k, K, N);
        T gs = 0;
        for (int64_t i = 0; i < N; ++i) {
            const int64_t j = i + r < N ? i + r : i + r - N;
            gwg[j] += shift[k] * gz[i];
            gs += gz[i] * h.wg[j];
        }
        gact[M + 2 + k] = gs;
    }
    T gg = 0, sum = 0;                                             // interpolation, then the content softmax
    for (int64_t i = 0; i < N; ++i) {
        gg += gwg[i] * (h.wc[i] - w_prev[i]);
        gw_prev[i] = (T(1) - g) * gwg[i];
        sum += h.wc[i] * g * gwg[i];
    }
    T gbeta = 0, nk2 = 0, gnk2 = 0;
    for (int64_t j = 0; j < M; ++j) nk2 += key[j] * key[j];
    std::vector<T> gdot(N), gq(N);
    for (int64_t i = 0; i < N; ++i) {                              // cosine: dot / sqrt(max(|k|^2 |m_i|^2, eps^2))
        const T gu = h.wc[i] * (g * gwg[i] - sum);
        gbeta += gu * h.sim[i];
        const T gsim = beta * gu, q = nk2 * nm2[i];
        const T r = T(1) / std::sqrt(std::max(q, T(s.eps2)));
        gdot[i] = gsim * r;
        gq[i] = q >= T(s.eps2) ? gsim * h.dot[i] * T(-0.5) * r * r * r : T(0);
        gnk2 += gq[i] * nm2[i];
    }
    for (int64_t j = 0; j < M; ++j) gact[j] = T(2) * gnk2 * key[j];
    for (int64_t i = 0; i < N; ++i) {
        const T a = gdot[i], b = T(2) * gq[i] * nk2;
        for (int64_t j = 0; j < M; ++j) {
            gact[j] += a * mem[i * M + j];
            gmem[i * M + j] += a * key[j] + b * mem[i * M + j];
        }
    }
    gact[M] = gbeta;
    gact[M + 1] = gg;
    gact[M + 2 + K] = ggamma;
}

template <typename T> void forward(const Shape& s, int64_t B, const T* mem0, const T* raw, const T* ww_prev,
                                   const T* wr_prev, T* mem1, T* reads, T* wr, T* ww, T* work) {
    const int64_t N = s.N, M = s.M, W = s.W, R = s.R, NM = N * M, E = M + 3 + s.K;   // E: erase's offset
    for (int64_t b = 0; b < B; ++b) {
        const T* m0 = mem0 + b * NM;
        T* m1 = mem1 + b * NM;
        T* wk = work + b * s.S;
        const T* rw = raw + b * s.P;
        row_norms(m0, wk, s);
        std::vector<Head<T>> heads;
        for (int64_t h = 0; h < W + R; ++h) heads.emplace_back(wk + head_offset(s, h), N);
        for (int64_t h = 0; h < W; ++h) {                          // every write head addresses M_{t-1}
            activate(rw + h * s.Pw, heads[h].act, s, true);
            address(m0, wk, heads[h], ww_prev + (b * W + h) * N, ww + (b * W + h) * N, s);
        }
        if (W == 1) {                                              // the usual machine: one write head
            const T* __restrict__ e = heads[0].act + E;
            const T* __restrict__ a = e + M;
            for (int64_t i = 0; i < N; ++i) {
                const T w = ww[b * N + i];
                for (int64_t j = 0; j < M; ++j) m1[i * M + j] = m0[i * M + j] * (T(1) - w * e[j]) + w * a[j];
            }
        } else for (int64_t i = 0; i < N; ++i) {                   // all erase, then all add (eqs. 3-4)
            for (int64_t j = 0; j < M; ++j) {
                T keep = 1, add = 0;
                for (int64_t h = 0; h < W; ++h) {
                    const T w = ww[(b * W + h) * N + i];
                    keep *= T(1) - w * heads[h].act[E + j];
                    add += w * heads[h].act[E + M + j];
                }
                m1[i * M + j] = m0[i * M + j] * keep + add;
            }
        }
        row_norms(m1, wk + N, s);
        for (int64_t h = 0; h < R; ++h) {                          // every read head addresses M_t and reads (eq. 2)
            Head<T>& head = heads[W + h];
            activate(rw + W * s.Pw + h * s.Pr, head.act, s, false);
            T* w = wr + (b * R + h) * N;
            address(m1, wk + N, head, wr_prev + (b * R + h) * N, w, s);
            T* __restrict__ r = reads + (b * R + h) * M;
            const T* __restrict__ m = m1;
            std::fill(r, r + M, T(0));
            for (int64_t i = 0; i < N; ++i) {
                const T wi = w[i];
                for (int64_t j = 0; j < M; ++j) r[j] += wi * m[i * M + j];
            }
        }
    }
}

template <typename T> void backward(const Shape& s, int64_t B, const T* mem0, const T* mem1, const T* raw,
                                    const T* ww_prev, const T* wr_prev, const T* wr, const T* ww, const T* work,
                                    const T* g_mem1, const T* g_reads, const T* g_wr, const T* g_ww,
                                    T* g_mem0, T* g_raw, T* g_ww_prev, T* g_wr_prev) {
    const int64_t N = s.N, M = s.M, W = s.W, R = s.R, NM = N * M, E = M + 3 + s.K;
    std::vector<T> gm1(NM), gw(N), before(W + 1), after(W + 1), gwrite(W * N);
    std::vector<const T*> act_w(W);
    for (int64_t b = 0; b < B; ++b) {
        const T* m0 = mem0 + b * NM;
        const T* m1 = mem1 + b * NM;
        const T* wk = work + b * s.S;
        const T* rw = raw + b * s.P;
        T* grw = g_raw + b * s.P;
        T* gm0 = g_mem0 + b * NM;
        std::copy(g_mem1 + b * NM, g_mem1 + (b + 1) * NM, gm1.begin());
        auto head = [&](int64_t h) { return Head<T>(const_cast<T*>(wk) + head_offset(s, h), N); };
        for (int64_t h = 0; h < W; ++h) act_w[h] = head(h).act;
        for (int64_t h = 0; h < R; ++h) {                          // the reads, then the read heads' addressing
            const T* __restrict__ w = wr + (b * R + h) * N;
            const T* __restrict__ gr = g_reads + (b * R + h) * M;
            T* __restrict__ g1 = gm1.data();
            for (int64_t i = 0; i < N; ++i) {
                T sum = g_wr[(b * R + h) * N + i];
                for (int64_t j = 0; j < M; ++j) {
                    sum += gr[j] * m1[i * M + j];
                    g1[i * M + j] += w[i] * gr[j];
                }
                gw[i] = sum;
            }
            T* ga = grw + W * s.Pw + h * s.Pr;
            address_backward(m1, wk + N, head(W + h), wr_prev + (b * R + h) * N, gw.data(), gm1.data(), ga,
                             g_wr_prev + (b * R + h) * N, s);
            activate_backward(rw + W * s.Pw + h * s.Pr, head(W + h).act, ga, s, false);
        }
        std::fill(gwrite.begin(), gwrite.end(), T(0));             // the write: M_t = M_{t-1} prod(1 - w e) + sum w a
        for (int64_t h = 0; h < W; ++h) std::fill(grw + h * s.Pw + E, grw + (h + 1) * s.Pw, T(0));
        before[0] = 1;
        after[W] = 1;
        if (W == 1) {                                              // one write head: M_t = M_{t-1} (1 - w e) + w a
            const T *e = act_w[0] + E, *a = e + M;
            T *ge = grw + E, *gadd = ge + M;
            for (int64_t i = 0; i < N; ++i) {
                const T w = ww[b * N + i];
                const T* g1 = gm1.data() + i * M;
                const T* m = m0 + i * M;
                T* g0 = gm0 + i * M;
                T sum = 0;
#pragma GCC ivdep
                for (int64_t j = 0; j < M; ++j) {
                    g0[j] = g1[j] * (T(1) - w * e[j]);
                    sum += g1[j] * (a[j] - e[j] * m[j]);
                }
#pragma GCC ivdep
                for (int64_t j = 0; j < M; ++j) {
                    ge[j] -= g1[j] * w * m[j];
                    gadd[j] += g1[j] * w;
                }
                gwrite[i] = sum;
            }
        } else for (int64_t i = 0; i < N; ++i) {
            for (int64_t j = 0; j < M; ++j) {
                for (int64_t h = 0; h < W; ++h)
                    before[h + 1] = before[h] * (T(1) - ww[(b * W + h) * N + i] * act_w[h][E + j]);
                for (int64_t h = W - 1; h >= 0; --h)
                    after[h] = after[h + 1] * (T(1) - ww[(b * W + h) * N + i] * act_w[h][E + j]);
                const T g = gm1[i * M + j], m = m0[i * M + j];
                gm0[i * M + j] = g * before[W];
                for (int64_t h = 0; h < W; ++h) {
                    const T w = ww[(b * W + h) * N + i], others = before[h] * after[h + 1];
                    const T* act = act_w[h];
                    gwrite[h * N + i] += g * (act[E + M + j] - act[E + j] * m * others);
                    grw[h * s.Pw + E + j] -= g * w * m * others;
                    grw[h * s.Pw + E + M + j] += g * w;
                }
            }
        }
        for (int64_t h = 0; h < W; ++h) {                          // the write heads' addressing, on M_{t-1}
            for (int64_t i = 0; i < N; ++i) gw[i] = g_ww[(b * W + h) * N + i] + gwrite[h * N + i];
            T* ga = grw + h * s.Pw;
            address_backward(m0, wk, head(h), ww_prev + (b * W + h) * N, gw.data(), gm0, ga,
                             g_ww_prev + (b * W + h) * N, s);
            activate_backward(rw + h * s.Pw, head(h).act, ga, s, true);
        }
    }
}

// The LSTM cell's pointwise part, after its matrix products: gates (B, 4H) in torch's order (input, forget, cell,
// output), c_prev (B, H) -> h, c (B, H): c = sigmoid(f) c_prev + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c).
template <typename T> void lstm_forward(int64_t B, int64_t H, const T* gates, const T* c_prev, T* h, T* c) {
    for (int64_t b = 0; b < B; ++b) {
        const T *x = gates + b * 4 * H, *cp = c_prev + b * H;
        T *hb = h + b * H, *cb = c + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T i = T(1) / (T(1) + vexp(-x[j])), f = T(1) / (T(1) + vexp(-x[H + j]));
            const T g = vtanh(x[2 * H + j]), o = T(1) / (T(1) + vexp(-x[3 * H + j]));
            cb[j] = f * cp[j] + i * g;
            hb[j] = o * vtanh(cb[j]);
        }
    }
}

template <typename T> void lstm_backward(int64_t B, int64_t H, const T* gates, const T* c_prev, const T* c,
                                         const T* g_h, const T* g_c, T* g_gates, T* g_c_prev) {
    for (int64_t b = 0; b < B; ++b) {
        const T *x = gates + b * 4 * H, *cp = c_prev + b * H, *cb = c + b * H, *gh = g_h + b * H, *gc = g_c + b * H;
        T *gx = g_gates + b * 4 * H, *gcp = g_c_prev + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T i = T(1) / (T(1) + vexp(-x[j])), f = T(1) / (T(1) + vexp(-x[H + j]));
            const T g = vtanh(x[2 * H + j]), o = T(1) / (T(1) + vexp(-x[3 * H + j]));
            const T tc = vtanh(cb[j]);
            const T dc = gc[j] + gh[j] * o * (T(1) - tc * tc);
            gx[j] = dc * g * i * (T(1) - i);
            gx[H + j] = dc * cp[j] * f * (T(1) - f);
            gx[2 * H + j] = dc * i * (T(1) - g * g);
            gx[3 * H + j] = gh[j] * tc * o * (T(1) - o);
            gcp[j] = dc * f;
        }
    }
}

}  // namespace

extern "C" {

int64_t ntm_work_size(int64_t N, int64_t M, int64_t K, int64_t W, int64_t R) {
    return make_shape(N, M, K, W, R, 0, 0).S;
}

#define NTM_ENTRY_POINTS(T, SUFFIX)                                                                                  \
    void ntm_forward_##SUFFIX(int64_t B, int64_t N, int64_t M, int64_t K, int64_t W, int64_t R, double clip,     \
                              double eps2, const T* mem0, const T* raw, const T* ww_prev, const T* wr_prev,      \
                              T* mem1, T* reads, T* wr, T* ww, T* work) {                                        \
        forward<T>(make_shape(N, M, K, W, R, clip, eps2), B, mem0, raw, ww_prev, wr_prev, mem1, reads, wr, ww,   \
                   work);                                                                                        \
    }                                                                                                            \
    void ntm_backward_##SUFFIX(int64_t B, int64_t N, int64_t M, int64_t K, int64_t W, int64_t R, double clip,    \
                               double eps2, const T* mem0, const T* mem1, const T* raw, const T* ww_prev,        \
                               const T* wr_prev, const T* wr, const T* ww, const T* work, const T* g_mem1,       \
                               const T* g_reads, const T* g_wr, const T* g_ww, T* g_mem0, T* g_raw,              \
                               T* g_ww_prev, T* g_wr_prev) {                                                     \
        backward<T>(make_shape(N, M, K, W, R, clip, eps2), B, mem0, mem1, raw, ww_prev, wr_prev, wr, ww, work,   \
                    g_mem1, g_reads, g_wr, g_ww, g_mem0, g_raw, g_ww_prev, g_wr_prev);                           \
    }

#define NTM_LSTM_ENTRY_POINTS(T, SUFFIX)                                                                             \
    void ntm_lstm_forward_##SUFFIX(int64_t B, int64_t H, const T* gates, const T* c_prev, T* h, T* c) {           \
        lstm_forward<T>(B, H, gates, c_prev, h, c);                                                              \
    }                                                                                                            \
    void ntm_lstm_backward_##SUFFIX(int64_t B, int64_t H, const T* gates, const T* c_prev, const T* c,            \
                                    const T* g_h, const T* g_c, T* g_gates, T* g_c_prev) {                       \
        lstm_backward<T>(B, H, gates, c_prev, c, g_h, g_c, g_gates, g_c_prev);                                   \
    }

NTM_ENTRY_POINTS(float, f32)
NTM_LSTM_ENTRY_POINTS(float, f32)
NTM_LSTM_ENTRY_POINTS(double, f64)
NTM_ENTRY_POINTS(double, f64)

}  // extern "C"
