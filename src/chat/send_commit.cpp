// ChatService's sends: the group commit (docs/architecture.md, "Group commit"). send_async
// queues on the committer of the channel's stripe; the committer thread stores the batch in one
// transaction, judging each send there (check_send); the publisher thread then publishes the
// batch's events and acknowledges its sends, in commit order.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "chat/chat_service.hpp"
#include "chat/event_builder.hpp"
#include "chat/outbox.hpp"
#include "chat/send_gate.hpp"
#include "tenancy/settings.hpp"

namespace parley::chat {

struct ChatService::PendingSend {
  Caller who;
  std::string channel_id;
  OutgoingMessage msg;  // its text and ids move into the queued send
  std::int64_t max_message_bytes = 0;
  SendCallback done;
};

struct ChatService::CommittedBatch {
  std::vector<PendingSend> sends;
  std::vector<store::QueuedSend> queued;  // the sends as stored, with their results
  std::vector<std::string> keys;          // the batch's channels, counted in unpublished_
};

ChatService::ChatService(store::Store& store, GroupCommitOptions sends) : store_(store), chat_(store.chat()) {
  for (int i = 0; i < std::max(1, sends.committers); ++i) {
    // Takes whatever committed batches are waiting, in commit order.
    publishers_.push_back(std::make_unique<GroupCommitter<CommittedBatch>>(GroupCommitOptions{1 << 16, 0, 1},
                                                                           [this](std::vector<CommittedBatch>& done) {
                                                                             for (auto& b : done) publish_sends(b);
                                                                           }));
    auto& publisher = *publishers_.back();
    sends_.push_back(std::make_unique<GroupCommitter<PendingSend>>(
        sends, [this, &publisher](std::vector<PendingSend>& batch) { commit_sends(batch, publisher); }));
  }
}

ChatService::~ChatService() { stop_sends(); }

void ChatService::stop_sends() {
  for (auto& c : sends_) c->stop();  // commits what is queued, hands it to the publishers
  for (auto& p : publishers_) p->stop();
}

GroupCommitStats ChatService::send_stats() const {
  GroupCommitStats total;
  for (const auto& c : sends_) {
    auto s = c->stats();
    total.batches += s.batches;
    total.items += s.items;
  }
  return total;
}

void ChatService::send_async(const Caller& who, const std::string& channel_id, OutgoingMessage msg, SendCallback done) {
  if (gate_ && gate_->applies(who.app_id())) {
    gate_->check(who, channel_id, std::move(msg),
                 [this, who, channel_id, done = std::move(done)](Result<OutgoingMessage> judged) mutable {
                   if (!judged) {
                     done(std::move(judged).error());
                     return;
                   }
                   queue_send(who, channel_id, std::move(*judged), std::move(done));
                 });
    return;
  }
  queue_send(who, channel_id, std::move(msg), std::move(done));
}

void ChatService::queue_send(const Caller& who, const std::string& channel_id, OutgoingMessage msg, SendCallback done) {
  PendingSend p{who, channel_id, std::move(msg), who.app->settings.max_message_bytes, std::move(done)};
  auto& committer = *sends_[std::hash<std::string>{}(channel_id) % sends_.size()];
  if (!committer.submit(p)) p.done(Error{Errc::unavailable, "the server is shutting down; retry"});
}

Result<store::SendResult> ChatService::send(const Caller& who, const std::string& channel_id, OutgoingMessage msg) {
  std::promise<Result<store::SendResult>> outcome;
  auto ready = outcome.get_future();
  send_async(who, channel_id, std::move(msg),
             [&outcome](Result<store::SendResult> r) { outcome.set_value(std::move(r)); });
  return ready.get();
}

// The rules of a send, inside the batch transaction (channel row locked, reads consistent with
// the commit). Same checks, order and errors as every other write: the channel must be
// writable by the caller first, then the content is judged.
Status ChatService::check_send(PendingSend& p, const store::ChannelRecord& channel, store::QueuedSend& q,
                               store::SendReader& reader) {
  const std::string& app_id = q.app_id;
  const std::string& channel_id = q.channel_id;
  if (channel.deleted_at) return not_found("channel");  // before the member read, as may_read
  PARLEY_ASSIGN_OR_RETURN(auto me, reader.member(app_id, channel_id, q.message.user_id));
  PARLEY_TRY(rules::may_post(channel, me));
  PARLEY_TRY(rules::check_new_content(q.message.text, p.msg.attachment_count, p.max_message_bytes));
  if (channel.type == store::ChannelType::dm) {
    const std::string& key = *channel.dm_key;
    std::string other = key.substr(0, key.find('\n'));
    if (other == q.message.user_id) other = key.substr(key.find('\n') + 1);
    PARLEY_ASSIGN_OR_RETURN(auto blocked, reader.blocked_either(app_id, q.message.user_id, other));
    PARLEY_TRY(rules::may_post_in_dm(blocked));
  }
  // Mentions: the explicit list must name members; @tokens that are not members are ignored.
  std::vector<std::string> mentioned;
  for (const auto& id : p.msg.mentions) {
    auto m = reader.member(app_id, channel_id, id);
    if (!m) return std::move(m).error();
    if (!*m) return violates("mentions", "'" + id + "' is not a member of the channel");
    if (std::find(mentioned.begin(), mentioned.end(), id) == mentioned.end()) mentioned.push_back(id);
  }
  // The @tokens of the text follow the explicit list in q.lookups (commit_sends found them).
  for (std::size_t i = p.msg.mentions.size(); i < q.lookups.size(); ++i) {
    const std::string& id = q.lookups[i];
    if (mentioned.size() >= kMaxMentions) break;
    if (std::find(mentioned.begin(), mentioned.end(), id) != mentioned.end()) continue;
    auto m = reader.member(app_id, channel_id, id);
    if (!m) return std::move(m).error();
    if (*m) mentioned.push_back(id);
  }
  q.message.mentions_json = mentions_json(mentioned);
  q.message.mentions.clear();
  for (const auto& id : mentioned) {
    if (id != q.message.user_id) q.message.mentions.push_back(id);
  }
  return ok_status();
}

namespace {
std::string channel_key(std::string_view app_id, std::string_view channel_id) {
  std::string key;
  key.reserve(app_id.size() + 1 + channel_id.size());
  key.append(app_id).append(1, '\n').append(channel_id);
  return key;
}
}  // namespace

void ChatService::wait_published(const std::string& app_id, const std::string& channel_id) {
  MutexLock lock(unpublished_mu_);
  if (unpublished_.empty()) return;
  auto key = channel_key(app_id, channel_id);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (unpublished_.contains(key)) {
    if (lock.wait_until(unpublished_cv_, deadline) == std::cv_status::timeout) break;
  }
}

// Runs on a committer thread: one store transaction for the batch, then the batch goes to the
// committer's publisher (publish_sends). The batch's channels count as unpublished from before
// the commit until their events are out (see wait_published).
void ChatService::commit_sends(std::vector<PendingSend>& batch, GroupCommitter<CommittedBatch>& publisher) {
  CommittedBatch done;
  {
    // The batch's distinct channels, found without a string per send.
    using Ref = std::pair<std::string_view, std::string_view>;  // app, channel
    std::vector<Ref> refs;
    refs.reserve(batch.size());
    for (const auto& p : batch) refs.emplace_back(p.who.app_id(), p.channel_id);
    std::sort(refs.begin(), refs.end());
    refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
    done.keys.reserve(refs.size());
    for (const auto& [app, channel] : refs) done.keys.push_back(channel_key(app, channel));
  }
  {
    MutexLock lock(unpublished_mu_);
    for (const auto& k : done.keys) ++unpublished_[k];
  }
  done.queued.resize(batch.size());
  TimeMs now = now_ms();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    PendingSend& p = batch[i];
    store::QueuedSend& q = done.queued[i];
    q.app_id = p.who.app_id();
    q.channel_id = std::move(p.channel_id);  // only the queued send needs it from here
    q.message.user_id = p.who.user_id;
    q.message.text = std::move(p.msg.text);
    q.message.attachments_json = std::move(p.msg.attachments_json);
    q.message.parent_seq = p.msg.parent_seq;
    q.message.client_msg_id = std::move(p.msg.client_msg_id);
    q.message.created_at = now;
    q.lookups = p.msg.mentions;  // then the text's @tokens, which check_send reads from here
    for (auto& id : mentions_in_text(q.message.text)) q.lookups.push_back(std::move(id));
    q.outbox = outbox_ && outbox_->wants(*p.who.app, q.message.text);
  }
  chat_.send_batch(done.queued, [&](std::size_t i, const store::ChannelRecord& channel, store::QueuedSend& q,
                                    store::SendReader& reader) { return check_send(batch[i], channel, q, reader); });
  done.sends = std::move(batch);
  batch.clear();
  if (!publisher.submit(done)) publish_sends(done);  // stopping: publish here (stop_sends avoids it)
}

// Runs on a publisher thread, batch after batch in commit order: the events of the new messages
// in seq order, then the acknowledgements — a send is acknowledged after its commit.
void ChatService::publish_sends(CommittedBatch& done) {
  // The receipts of the batch's outbox rows (the rows the store wrote for the same sends).
  std::vector<std::pair<store::OutboxRow, std::shared_ptr<bus::Receipt>>> receipts;
  if (outbox_) {
    for (auto& row : store::outbox_rows(done.queued, 0)) {
      auto r = outbox_->receipt(row);
      receipts.emplace_back(std::move(row), std::move(r));
    }
  }
  auto receipt_of = [&](const store::QueuedSend& q) -> std::shared_ptr<bus::Receipt> {
    if (!q.outbox) return nullptr;
    for (const auto& [row, r] : receipts) {
      if (row.channel_id == q.channel_id && row.app_id == q.app_id) return r;
    }
    return nullptr;
  };
  for (auto& q : done.queued) {
    if (!q.result || q.result->duplicate) continue;
    const store::SendResult& sent = *q.result;
    auto receipt = receipt_of(q);
    ChatEvent e = event::message(bus::EventType::message_new, sent.message);
    e.receipt = receipt;
    emit(std::move(e));
    if (sent.parent) {
      ChatEvent reply = event::thread_reply(*sent.parent, sent.message.seq);
      reply.receipt = std::move(receipt);
      emit(std::move(reply));
    }
  }
  receipts.clear();  // the consumers hold what they still need
  {
    MutexLock lock(unpublished_mu_);
    for (const auto& k : done.keys) {
      if (--unpublished_[k] == 0) unpublished_.erase(k);
    }
  }
  unpublished_cv_.notify_all();
  for (std::size_t i = 0; i < done.sends.size(); ++i) {
    if (!done.queued[i].result) {
      done.sends[i].done(std::move(done.queued[i].result).error());
    } else {
      done.queued[i].result->parent.reset();
      done.sends[i].done(std::move(done.queued[i].result));
    }
  }
}

Result<int> ChatService::replay_outbox(TimeMs now, int limit) {
  if (!outbox_) return 0;
  PARLEY_ASSIGN_OR_RETURN(auto rows, outbox_->stale(now, limit));
  for (auto& row : rows) {
    // A batch gives a channel's messages consecutive seqs: the range holds this row's only.
    auto count = static_cast<int>(std::min<std::int64_t>(row.last_seq - row.first_seq + 1, 10'000));
    auto messages = chat_.list_messages(row.app_id, row.channel_id, row.first_seq - 1, std::nullopt, count);
    if (!messages) return std::move(messages).error();
    spdlog::warn("outbox: replaying {} messages ({}..{}) of channel {} (app {}): their node did not confirm them",
                 messages->size(), row.first_seq, row.last_seq, row.channel_id, row.app_id);
    auto receipt = outbox_->receipt(row);
    for (const auto& m : *messages) {
      if (m.deleted_at) continue;  // deleted since: nothing to announce
      ChatEvent e = event::message(bus::EventType::message_new, m);
      e.receipt = receipt;
      e.replay = true;
      emit(std::move(e));
      if (m.parent_seq) {
        auto parent = chat_.get_message(row.app_id, row.channel_id, *m.parent_seq);
        if (!parent) {
          receipt->fail();
          return std::move(parent).error();
        }
        ChatEvent reply = event::thread_reply(*parent, m.seq);
        reply.receipt = receipt;
        reply.replay = true;
        emit(std::move(reply));
      }
    }
  }
  return static_cast<int>(rows.size());
}

}  // namespace parley::chat
