// Chat hot paths measured in-process on a real SQLite file (the server time of a request,
// minus HTTP parsing): channel list with unread counts for a member of 1,000 channels, the
// unread totals over those channels, a 200-message history page including its JSON, and
// message sends into a 2-member and a 1,000-member channel (send must not grow with members).
// Prints a table and one JSON line per figure. Never fails on speed.
//   usage: parley-chat-bench [iterations]
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "chat/chat_json.hpp"
#include "chat/chat_service.hpp"
#include "core/crypto.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"

using namespace parley;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  double p50, p90, p99, mean;
};

Stats measure(int iterations, const std::function<void()>& fn) {
  std::vector<double> us;
  for (int i = 0; i < iterations; ++i) {
    auto t0 = Clock::now();
    fn();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))]; };
  return {at(0.5), at(0.9), at(0.99), sum / us.size()};
}

void report(const char* name, const Stats& s) {
  std::printf("%-44s p50 %9.1f us  p90 %9.1f us  p99 %9.1f us  mean %9.1f us\n", name, s.p50, s.p90, s.p99, s.mean);
  std::printf(
      "{\"benchmark\":\"chat\",\"name\":\"%s\",\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f}\n",
      name, s.p50, s.p90, s.p99, s.mean);
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  auto dir = std::filesystem::temp_directory_path() / ("parley-bench-" + crypto::random_id("", 8));
  std::string url = "sqlite:" + (dir / "bench.db").string();
  store::open_migrator(url)->apply();
  auto store = store::open_store(url, 4);
  store::AppRecord app{"app_bench", "Bench", "{}", "k", 1, 1};
  must(Result<Unit>(store->create_app(app, {"pk_bench", "app_bench", "h", 1, std::nullopt})), "app");
  auto app_ptr = std::make_shared<const tenancy::App>(app);
  for (int i = 0; i < 1000; ++i) must(store->upsert_user(app.id, "u" + std::to_string(i), {}, 1), "user");
  chat::ChatService chat(*store);
  chat::Caller me{app_ptr, "u0"}, other{app_ptr, "u1"};

  std::printf("seeding: 1,000 channels for u0 with 5 messages each...\n");
  std::string first_channel;
  for (int c = 0; c < 1000; ++c) {
    chat::NewChannel spec;
    spec.type = store::ChannelType::group;
    spec.name = "channel " + std::to_string(c);
    spec.members = {"u1"};
    auto v = must(chat.create_channel(me, spec), "channel");
    if (c == 0) first_channel = v.channel.id;
    for (int m = 0; m < 5; ++m) {
      chat::OutgoingMessage msg;
      msg.text = m == 4 ? "ping @u0" : "hello there, this is message " + std::to_string(m);
      must(chat.send(other, v.channel.id, msg), "send");
    }
  }
  std::printf("seeding: 10,000 messages of ~100 bytes in one channel...\n");
  chat::NewChannel hist_spec;
  hist_spec.type = store::ChannelType::group;
  hist_spec.name = "history";
  hist_spec.members = {"u1"};
  auto hist = must(chat.create_channel(me, hist_spec), "channel").channel.id;
  for (int m = 0; m < 10000; ++m) {
    chat::OutgoingMessage msg;
    msg.text = std::string(90, 'x') + " #" + std::to_string(m);
    must(chat.send(m % 2 ? me : other, hist, msg), "send");
  }
  chat::NewChannel big_spec;
  big_spec.type = store::ChannelType::group;
  big_spec.name = "big";
  for (int i = 1; i < 1000; ++i) big_spec.members.push_back("u" + std::to_string(i));
  auto big = must(chat.create_channel(me, big_spec), "channel").channel.id;
  chat::NewChannel small_spec;
  small_spec.type = store::ChannelType::group;
  small_spec.name = "small";
  small_spec.members = {"u1"};
  auto small = must(chat.create_channel(me, small_spec), "channel").channel.id;

  std::printf("\n%d iterations each, single thread, SQLite WAL (%s)\n", iterations, dir.c_str());
  report("channel list, first page of 50 (+JSON)", measure(iterations, [&] {
           auto page = must(chat.list_channels(me, std::nullopt, false, std::nullopt, 51), "list");
           boost::json::array a;
           for (const auto& v : page) a.push_back(chat::to_json(v));
           (void)boost::json::serialize(a);
         }));
  report("channel list, all 1,003 channels (+JSON)", measure(std::max(1, iterations / 10), [&] {
           auto page = must(chat.list_channels(me, std::nullopt, false, std::nullopt, 1001), "list");
           boost::json::array a;
           for (const auto& v : page) a.push_back(chat::to_json(v));
           (void)boost::json::serialize(a);
         }));
  report("channel list, all 1,003 channels (no JSON)", measure(std::max(1, iterations / 10), [&] {
           must(chat.list_channels(me, std::nullopt, false, std::nullopt, 1001), "list");
         }));
  report("unread totals over 1,003 channels", measure(iterations, [&] { must(chat.unread(me), "unread"); }));
  report("history page of 200 (+JSON)", measure(iterations, [&] {
           auto p = must(chat.history(me, hist, std::nullopt, std::int64_t{5000}, 200), "history");
           (void)boost::json::serialize(chat::messages_json(p, false));
         }));
  report("history page of 200, preview mode (+JSON)", measure(iterations, [&] {
           auto p = must(chat.history(me, hist, std::nullopt, std::int64_t{5000}, 200), "history");
           (void)boost::json::serialize(chat::messages_json(p, true));
         }));
  int n = 0;
  report("send into a 2-member channel", measure(iterations, [&] {
           chat::OutgoingMessage msg;
           msg.text = "bench message " + std::to_string(n++);
           must(chat.send(me, small, msg), "send");
         }));
  report("send into a 1,000-member channel", measure(iterations, [&] {
           chat::OutgoingMessage msg;
           msg.text = "bench message " + std::to_string(n++);
           must(chat.send(me, big, msg), "send");
         }));
  (void)first_channel;
  store.reset();
  if (!std::getenv("PARLEY_BENCH_KEEP")) std::filesystem::remove_all(dir);
  return 0;
}
