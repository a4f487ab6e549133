#ifndef ASFCAST_CAVFORMAT_SHIM_H
#define ASFCAST_CAVFORMAT_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>

/* Function-like macros Swift cannot import. */
static inline int asfcast_averror_eof(void) { return AVERROR_EOF; }
static inline int asfcast_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline AVRational asfcast_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int64_t asfcast_nopts_value(void) { return AV_NOPTS_VALUE; }

#endif
