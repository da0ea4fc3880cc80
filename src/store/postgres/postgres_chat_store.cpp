// The chat store on PostgreSQL: the shared queries (store/sql/chat_store_impl.hpp) with
// PostgreSQL's own send batch (postgres_send_batch.cpp).
#include "store/postgres/postgres_chat_store.hpp"

#include "store/postgres/postgres_dialect.hpp"
#include "store/postgres/postgres_send_batch.hpp"
#include "store/sql/chat_store_impl.hpp"

namespace parley::store::postgres {

namespace {

// Send batches over the pool, remembering whether they look for earlier copies first.
class SendBatches {
 public:
  explicit SendBatches(Pool& pool) : pool_(pool) {}
  void send_batch(std::vector<QueuedSend>& batch, const SendRule& rule) {
    postgres::send_batch(pool_, batch, rule, copy_lookups_);
  }

 private:
  Pool& pool_;
  CopyLookups copy_lookups_;
};

}  // namespace

std::unique_ptr<ChatStore> make_postgres_chat_store(Pool& pool) {
  return std::make_unique<sql::SqlChatStore<PostgresDialect, SendBatches>>(pool);
}

}  // namespace parley::store::postgres
