// OpenBLAS (CBLAS) and LAPACKE from Debian's libopenblas-dev and liblapacke-dev. Not API.
#include <cblas.h>
#include <lapacke.h>
