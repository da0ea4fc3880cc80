#include "store/chat_store.hpp"

#include <algorithm>

namespace parley::store {

std::vector<OutboxRow> outbox_rows(const std::vector<QueuedSend>& batch, TimeMs now) {
  std::vector<OutboxRow> rows;
  for (const auto& s : batch) {
    if (!s.outbox || !s.result || s.result->duplicate) continue;
    const std::int64_t seq = s.result->message.seq;
    auto it = std::find_if(rows.begin(), rows.end(),
                           [&](const OutboxRow& r) { return r.channel_id == s.channel_id && r.app_id == s.app_id; });
    if (it == rows.end()) {
      rows.push_back({s.app_id, s.channel_id, seq, seq, now});
    } else {
      it->first_seq = std::min(it->first_seq, seq);
      it->last_seq = std::max(it->last_seq, seq);
    }
  }
  return rows;
}

}  // namespace parley::store
