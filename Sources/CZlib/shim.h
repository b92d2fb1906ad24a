// zlib's inflate API for reading .gz inputs. Debian's zlib1g-dev puts zlib.h on the
// include path that `pkg-config --cflags zlib` reports.
#include <zlib.h>
