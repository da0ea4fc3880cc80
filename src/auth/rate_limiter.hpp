#pragma once
// Token-bucket rate limits keyed by a string (client IP, app+user). Sharded so that
// concurrent requests rarely contend; memory is bounded by evicting idle buckets.
// Thread-safe.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/thread_annotations.hpp"

namespace parley::auth {

class RateLimiter {
 public:
  /// max_keys bounds the number of buckets kept (per limiter), evicting full ones first.
  explicit RateLimiter(std::size_t max_keys = 100000) : max_per_shard_(max_keys / kShards + 1) {}

  /// Takes one token from `key`'s bucket. Returns nullopt when allowed, else the whole seconds
  /// to wait (at least 1). `now` is steady time in seconds (parley::steady_seconds()).
  std::optional<int> take(const std::string& key, double rate_per_sec, double burst, double now);
  /// Buckets currently kept (for tests and metrics).
  std::size_t size();

 private:
  static constexpr std::size_t kShards = 16;
  struct Bucket {
    double tokens;
    double updated;
  };
  struct Shard {
    Mutex mu;
    std::unordered_map<std::string, Bucket> buckets GUARDED_BY(mu);
  };
  void evict(Shard& s, double now, double rate, double burst) REQUIRES(s.mu);

  std::size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace parley::auth
