/* SPDX-License-Identifier: Apache-2.0 */
/* livequeue.h - between a live input's segmenter and the uploads: the segments wait here, in
 * order, while the server is slow or away, so the input goes on being read (a network input
 * cannot be paused without losing what arrives). The queue holds copies up to a byte budget;
 * when it is full, a push waits (the input is then paused after all). The uploads run on one
 * thread of their own, one segment at a time, in the order pushed.
 */
#ifndef TAMS_CLIENT_LIVEQUEUE_H
#define TAMS_CLIENT_LIVEQUEUE_H

#include "core/common.h"
#include "client/seg.h"

struct tams_livequeue;

/* Called on the queue's thread for each piece, in order; tag is what push was given. Non-zero
 * stops the queue: later pushes and finish return it. */
typedef int (*tams_livequeue_fn)(const struct tams_seg_piece *p, int64_t tag, void *arg);

/* A queue holding at most budget bytes of segments (one segment larger than that is still
 * taken when the queue is empty), and its thread. NULL when the thread cannot start. */
struct tams_livequeue *tams_livequeue_start(size_t budget, tams_livequeue_fn fn, void *arg);
/* Copies p (its data included) into the queue, waiting while the budget is used up. 0, or the
 * non-zero result fn returned for an earlier piece (p is then not queued). */
int tams_livequeue_push(struct tams_livequeue *q, const struct tams_seg_piece *p, int64_t tag);
/* Waits until every piece pushed was handed to fn (or fn failed), stops the thread and frees
 * the queue. 0, or fn's first non-zero result. */
int tams_livequeue_finish(struct tams_livequeue *q);
/* The most bytes the queue has held at once so far (for --verbose). */
size_t tams_livequeue_peak(struct tams_livequeue *q);

#endif
