# SPDX-License-Identifier: Apache-2.0
"""The stress and soak driver behind bench/stress.py, one job per module:
  common    operations, scales, event types, timerange and statistics helpers
  client    persistent HTTP connections and the recorder of every request
  state     the live flows and the webhook events the driver expects
  workload  setup and the ingest, editor, lister and retention threads (Run)
  sampler   /proc and /metrics every few seconds: the timeline
  webhooks  the receiver (a child process) and the check of its deliveries
  report    summary.json, summary.md, timeline.csv
  plots     the PNG plots, with gnuplot
  png       the builtin PNG writer, without it
Standard library only."""
