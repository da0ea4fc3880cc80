#include "chat/outbox.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace parley::chat {

Outbox::Outbox(store::ChatStore& chat, OutboxOptions options) : chat_(chat), opts_(options) {}

Outbox::~Outbox() { stop(); }

std::string Outbox::key(const store::OutboxRow& r) {
  return r.app_id + '\n' + r.channel_id + '\n' + std::to_string(r.first_seq);
}

std::shared_ptr<bus::Receipt> Outbox::receipt(store::OutboxRow row) {
  {
    MutexLock lock(mu_);
    live_.insert(key(row));
  }
  return std::make_shared<bus::Receipt>([this, row = std::move(row)](bool ok) { settled(row, ok); });
}

void Outbox::settled(const store::OutboxRow& row, bool ok) {
  bool flush = false;
  {
    MutexLock lock(mu_);
    live_.erase(key(row));
    if (ok) {
      done_.push_back(row);
      flush = done_.size() >= opts_.flush_max;
    }
  }
  if (!ok) {
    spdlog::warn("outbox: a consumer failed on messages {}..{} of channel {} (app {}); they are replayed later",
                 row.first_seq, row.last_seq, row.channel_id, row.app_id);
  }
  if (flush) cv_.notify_one();
}

Result<std::vector<store::OutboxRow>> Outbox::stale(TimeMs now, int limit) {
  PARLEY_ASSIGN_OR_RETURN(auto rows, chat_.stale_outbox(now - opts_.replay_after_ms, limit));
  MutexLock lock(mu_);
  std::vector<store::OutboxRow> out;
  for (auto& r : rows) {
    if (!live_.contains(key(r))) out.push_back(std::move(r));
  }
  return out;
}

std::size_t Outbox::pending() const {
  MutexLock lock(mu_);
  return live_.size();
}

void Outbox::start() {
  MutexLock lock(mu_);
  if (!cleaner_.joinable() && !stopping_) cleaner_ = std::thread([this] { clean_loop(); });
}

void Outbox::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (cleaner_.joinable()) cleaner_.join();
}

void Outbox::clean_loop() {
  for (;;) {
    std::vector<store::OutboxRow> rows;
    bool stopping = false;
    {
      MutexLock lock(mu_);
      if (!stopping_ && done_.size() < opts_.flush_max) lock.wait_for(cv_, std::chrono::milliseconds(opts_.flush_ms));
      rows.swap(done_);
      stopping = stopping_;
    }
    if (!rows.empty()) {
      // On failure the rows stay and are replayed later (at least once).
      if (auto ok = chat_.delete_outbox(rows); !ok) {
        spdlog::error("outbox: deleting {} confirmed rows failed: {}", rows.size(), ok.error().message);
      }
    }
    if (stopping) return;
  }
}

}  // namespace parley::chat
