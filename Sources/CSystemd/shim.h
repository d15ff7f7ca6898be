#ifndef MEETMETER_CSYSTEMD_SHIM_H
#define MEETMETER_CSYSTEMD_SHIM_H
#include <systemd/sd-journal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#endif
