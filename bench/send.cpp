// send: durable send throughput and acknowledgement latency. K senders (--senders), each on its
// own connection, send --messages messages one at a time (the next after the ack, so latency is
// the full durable round trip), over the socket (message.send with an id -> ack carrying the
// seq) or over REST (POST /v1/channels/{id}/messages -> 201 with the message). Sender i writes
// into channel i % C (--channels). Checks: every send acknowledged without error, and each
// channel's acknowledged seqs are exactly 1..N (no gap, no duplicate), N matching the channel's
// last_seq read back over REST.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <map>

#include "scenarios.hpp"

namespace bench {

namespace {

struct SendStats {
  std::uint64_t acked = 0, errors = 0;
  std::vector<double> latency_ms;
  std::map<std::string, std::vector<std::int64_t>> seqs;  // channel -> acknowledged seqs
  int finished = 0;
};

// Waits between sends when a rate is set (spread over all senders).
struct Pacer {
  Clock::time_point next = Clock::now();
  std::chrono::nanoseconds step{0};
  asio::awaitable<void> wait(asio::steady_timer& t) {
    if (step.count() == 0) co_return;
    next += step;
    t.expires_at(next);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
};

std::string text_of(const Options& o, int sender, int i) {
  std::string head = std::to_string(sender) + ":" + std::to_string(i) + " ";
  return head + std::string(static_cast<std::size_t>(std::max(0, o.text_bytes - static_cast<int>(head.size()))), 'x');
}

// Reads until the ack (or error) for command `id` arrives; events in between are skipped.
asio::awaitable<std::optional<json::object>> await_reply(WebSocket& ws, beast::flat_buffer& buf,
                                                         std::vector<std::string>& pending, const std::string& id) {
  for (;;) {
    while (!pending.empty()) {
      std::string frame = std::move(pending.front());
      pending.erase(pending.begin());
      if (frame.find(id) == std::string::npos) continue;
      boost::system::error_code ec;
      auto v = json::parse(frame, ec);
      if (ec || !v.is_object()) continue;
      auto& obj = v.as_object();
      const auto* fid = obj.if_contains("id");
      if (fid && fid->is_string() && fid->as_string() == id) co_return obj;
    }
    auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::nullopt;
    std::string data = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    for_each_frame(data, [&](std::string_view f) {
      if (f.find("\"ack\"") != std::string_view::npos || f.find("\"error\"") != std::string_view::npos)
        pending.emplace_back(f);
    });
  }
}

asio::awaitable<void> ws_sender(const Options& o, SendStats& st, Pacer& pacer, std::string token, std::string channel,
                                int sender) {
  auto ws = co_await connect_parley_ws(o, token, sender);
  if (!ws) {
    st.errors += static_cast<std::uint64_t>(o.messages);
    ++st.finished;
    co_return;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  beast::flat_buffer buf;
  std::vector<std::string> pending;
  for (int i = 0; i < o.messages; ++i) {
    co_await pacer.wait(timer);
    std::string id = "s" + std::to_string(sender) + "-" + std::to_string(i);
    auto frame = json::serialize(
        json::object{{"type", "message.send"}, {"id", id}, {"channel_id", channel}, {"text", text_of(o, sender, i)}});
    auto t0 = mono_ns();
    auto [ec, n] = co_await ws->async_write(asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    auto reply = co_await await_reply(*ws, buf, pending, id);
    if (!reply) break;
    const auto* data = reply->if_contains("data");
    if (reply->at("type").as_string() != "ack" || !data) {
      ++st.errors;
      continue;
    }
    st.latency_ms.push_back(static_cast<double>(mono_ns() - t0) / 1e6);
    ++st.acked;
    st.seqs[channel].push_back(data->at("message").at("seq").as_int64());
  }
  ws->next_layer().close();
  ++st.finished;
}

asio::awaitable<void> rest_sender(const Options& o, SendStats& st, Pacer& pacer, std::string token, std::string channel,
                                  int sender) {
  AsyncHttp client(o, sender);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string auth = "Bearer " + token;
  std::string target = "/v1/channels/" + channel + "/messages";
  for (int i = 0; i < o.messages; ++i) {
    co_await pacer.wait(timer);
    auto body = json::serialize(json::object{
        {"text", text_of(o, sender, i)}, {"client_msg_id", "s" + std::to_string(sender) + "-" + std::to_string(i)}});
    std::string out;
    auto t0 = mono_ns();
    int status = co_await client.call(http::verb::post, target, auth, body, out);
    if (status != 201) {
      ++st.errors;
      if (st.errors < 5) std::fprintf(stderr, "send: POST answered %d: %s\n", status, out.c_str());
      continue;
    }
    st.latency_ms.push_back(static_cast<double>(mono_ns() - t0) / 1e6);
    ++st.acked;
    st.seqs[channel].push_back(json::parse(out).at("message").at("seq").as_int64());
  }
  ++st.finished;
}

}  // namespace

int run_send(const Options& o) {
  if (o.via != "ws" && o.via != "rest") throw std::runtime_error("--via is ws or rest");
  SyncHttp h(o);
  auto app = create_app(h, o, "send");
  std::vector<std::string> ids, tokens;
  for (int i = 0; i < o.senders; ++i) {
    ids.push_back("sender" + std::to_string(i));
    tokens.push_back(mint_token(h, app, ids.back()));
  }
  int channels = std::max(1, std::min(o.channels, o.senders));
  std::vector<std::string> channel_ids;
  for (int c = 0; c < channels; ++c) {
    std::vector<std::string> members;
    for (int i = c; i < o.senders; i += channels)
      if (i != c) members.push_back(ids[static_cast<std::size_t>(i)]);
    channel_ids.push_back(create_channel(h, tokens[static_cast<std::size_t>(c)], "send " + std::to_string(c), members));
  }
  asio::io_context ioc;
  SendStats st;
  Pacer pacer;
  if (o.rate > 0) pacer.step = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
  double cpu_before = cpu_seconds(o.pid);
  auto start = Clock::now();
  for (int i = 0; i < o.senders; ++i) {
    const auto& token = tokens[static_cast<std::size_t>(i)];
    const auto& channel = channel_ids[static_cast<std::size_t>(i % channels)];
    if (o.via == "ws")
      asio::co_spawn(ioc, ws_sender(o, st, pacer, token, channel, i), asio::detached);
    else
      asio::co_spawn(ioc, rest_sender(o, st, pacer, token, channel, i), asio::detached);
  }
  run_until(ioc, o.timeout_seconds, [&] { return st.finished == o.senders; });
  Result r;
  r.scenario = "send";
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu = cpu_seconds(o.pid) - cpu_before;
  r.rss = rss_bytes(o.pid);
  r.connections = o.senders;
  r.members_per_channel = (o.senders + channels - 1) / channels;
  r.messages_sent = static_cast<std::int64_t>(o.senders) * o.messages;
  r.deliveries = st.acked;  // durable, acknowledged sends
  r.latency_ms = std::move(st.latency_ms);
  // Unacknowledged sends count as lost; per channel the acked seqs must be exactly 1..N.
  r.lost = static_cast<std::uint64_t>(r.messages_sent) - st.acked;
  std::uint64_t gaps = 0;
  for (const auto& id : channel_ids) {
    auto& seqs = st.seqs[id];
    std::sort(seqs.begin(), seqs.end());
    auto end = std::unique(seqs.begin(), seqs.end());
    r.duplicated += static_cast<std::uint64_t>(seqs.end() - end);
    seqs.erase(end, seqs.end());
    if (!seqs.empty()) gaps += static_cast<std::uint64_t>(seqs.back() - static_cast<std::int64_t>(seqs.size()));
  }
  // The channel's own last_seq must equal the number of acknowledged messages in it.
  std::uint64_t last_seq_mismatch = 0;
  for (int c = 0; c < channels; ++c) {
    const auto& id = channel_ids[static_cast<std::size_t>(c)];
    auto ch = h.call(http::verb::get, "/v1/channels/" + id, "Bearer " + tokens[static_cast<std::size_t>(c)]);
    if (ch.at("channel").at("last_seq").as_int64() != static_cast<std::int64_t>(st.seqs[id].size()))
      ++last_seq_mismatch;
  }
  double mps = r.seconds > 0 ? static_cast<double>(st.acked) / r.seconds : 0;
  r.extra = {{"via", o.via},           {"senders", o.senders},       {"channels", channels},
             {"rate", o.rate},         {"text_bytes", o.text_bytes}, {"acked", st.acked},
             {"errors", st.errors},    {"seq_gaps", gaps},           {"last_seq_mismatch", last_seq_mismatch},
             {"messages_per_sec", mps}};
  char summary[200];
  std::snprintf(summary, sizeof summary,
                "send via %s: %d senders into %d channel(s), %llu of %lld acked (%llu errors) = %.0f messages/s; "
                "seq gaps %llu",
                o.via.c_str(), o.senders, channels, static_cast<unsigned long long>(st.acked),
                static_cast<long long>(r.messages_sent), static_cast<unsigned long long>(st.errors), mps,
                static_cast<unsigned long long>(gaps));
  report(o, r, summary);
  return r.lost || r.duplicated || gaps || st.errors || last_seq_mismatch ? 3 : 0;
}

}  // namespace bench
