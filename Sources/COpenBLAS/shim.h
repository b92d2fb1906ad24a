// OpenBLAS's CBLAS interface. Debian's libopenblas-dev puts cblas.h on the
// include path that `pkg-config --cflags openblas` reports.
#include <cblas.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/// OpenBLAS built for several CPUs (Debian's is) picks its kernels by CPU model at load, and
/// 0.3.21 (Debian 12) takes Prescott's SSE3 kernels for a model it does not know, whatever the
/// CPU can do: on the Xeon model 207 (Emerald Rapids) measured, attention's GEMMs took a third of
/// the long workload's CPU time on them, four times what SkylakeX's AVX-512 kernels take. So when
/// OpenBLAS runs Prescott's kernels on a CPU with AVX-512 (or AVX2 and FMA) and the user did not
/// choose with OPENBLAS_CORETYPE, this sets that variable to SkylakeX (or Haswell) and has OpenBLAS
/// choose again (gotoblas_dynamic_quit/_init, what its load-time constructor runs). Call before
/// the first GEMM. Returns the core OpenBLAS runs.
static inline const char *openblas_use_known_core(void) {
    const char *core = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") != NULL || core == NULL || strcmp(core, "Prescott") != 0) return core;
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (quit == NULL || init == NULL) return core;  // not a DYNAMIC_ARCH build: nothing to choose
    __builtin_cpu_init();
    const char *better = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) better = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) better = "Haswell";
    if (better == NULL) return core;
    setenv("OPENBLAS_CORETYPE", better, 0);
    quit();
    init();
    return openblas_get_corename();
}
