// OpenBLAS's CBLAS interface. Debian's libopenblas-dev puts cblas.h on the
// include path that `pkg-config --cflags openblas` reports.
#include <cblas.h>
