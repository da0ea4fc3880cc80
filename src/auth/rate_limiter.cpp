#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

namespace parley::auth {

std::optional<int> RateLimiter::take(const std::string& key, double rate, double burst, double now) {
  Shard& s = shards_[std::hash<std::string>{}(key) % kShards];
  MutexLock lock(s.mu);
  auto it = s.buckets.find(key);
  if (it == s.buckets.end()) {
    if (s.buckets.size() >= max_per_shard_) evict(s, now, rate, burst);
    it = s.buckets.emplace(key, Bucket{burst, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst, b.tokens + (now - b.updated) * rate);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  double wait = (1.0 - b.tokens) / rate;
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

std::size_t RateLimiter::size() {
  std::size_t n = 0;
  for (auto& s : shards_) {
    MutexLock lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

void RateLimiter::evict(Shard& s, double now, double rate, double burst) {
  // Buckets that have refilled completely carry no information: drop them.
  for (auto it = s.buckets.begin(); it != s.buckets.end();) {
    if (it->second.tokens + (now - it->second.updated) * rate >= burst)
      it = s.buckets.erase(it);
    else
      ++it;
  }
  // Still full of active clients: drop the oldest half rather than grow without bound.
  if (s.buckets.size() >= max_per_shard_) {
    std::vector<std::pair<double, std::string>> by_age;
    for (auto& [k, b] : s.buckets) by_age.emplace_back(b.updated, k);
    std::sort(by_age.begin(), by_age.end());
    for (std::size_t i = 0; i < by_age.size() / 2; ++i) s.buckets.erase(by_age[i].second);
  }
}

}  // namespace parley::auth
