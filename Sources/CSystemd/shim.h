#ifndef ASFCAST_CSYSTEMD_SHIM_H
#define ASFCAST_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
