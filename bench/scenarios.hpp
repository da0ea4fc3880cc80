// parley-bench scenarios. Each returns the process exit code: 0, or 3 when a correctness
// counter is not zero (lost, duplicated, reordered, unacknowledged, gaps, failed requests).
#pragma once

#include "common.hpp"

namespace bench {

int run_idle(const Options& o);         // N idle authenticated connections: RSS per connection
int run_fanout(const Options& o);       // C channels x M online members, one sender per channel
int run_send(const Options& o);         // K senders, durable send throughput and ack latency (ws | rest)
int run_resume(const Options& o);       // reconnect storm with resume during traffic
int run_read(const Options& o);         // channel lists with unread counts and history pages over REST
int run_xmpp_idle(const Options& o);    // the idle workload against an XMPP server (RFC 7395)
int run_xmpp_fanout(const Options& o);  // the fanout workload in XMPP MUC rooms

}  // namespace bench
