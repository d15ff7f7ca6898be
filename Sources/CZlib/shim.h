#ifndef MEETMETER_CZLIB_SHIM_H
#define MEETMETER_CZLIB_SHIM_H
#include <zlib.h>
#endif
