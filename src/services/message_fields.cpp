#include "services/message_fields.hpp"

#include <boost/json/serialize.hpp>
#include <limits>

namespace parley::services {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxAttachments = 10;
constexpr std::size_t kMaxAttachmentBytes = 2048;
constexpr std::int64_t kMaxSeq = std::numeric_limits<std::int64_t>::max() / 2;

}  // namespace

// attachments: an array of at most 10 objects, each at most 2 KiB serialized.
std::optional<std::string> read_attachments(ObjectReader& r, const json::object& body, std::size_t& count) {
  r.skip("attachments");
  auto it = body.find("attachments");
  if (it == body.end()) return std::nullopt;
  if (!it->value().is_array()) {
    r.fail(invalid("attachments", "expected an array of objects"));
    return std::nullopt;
  }
  const auto& a = it->value().as_array();
  if (a.size() > kMaxAttachments) r.fail(violates("attachments", "at most 10 attachments"));
  for (const auto& item : a) {
    if (!item.is_object()) {
      r.fail(invalid("attachments", "expected an array of objects"));
      return std::nullopt;
    }
    if (json::serialize(item).size() > kMaxAttachmentBytes) {
      r.fail(violates("attachments", "each attachment is at most 2048 bytes of JSON"));
    }
  }
  count = a.size();
  return json::serialize(a);
}

static std::optional<std::vector<std::string>> read_mentions(ObjectReader& r, const json::object& body) {
  r.skip("mentions");
  auto it = body.find("mentions");
  if (it == body.end()) return std::nullopt;
  std::vector<std::string> out;
  if (!it->value().is_array()) {
    r.fail(invalid("mentions", "expected an array of user ids"));
    return std::nullopt;
  }
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string()) {
      r.fail(invalid("mentions", "expected an array of user ids"));
      return std::nullopt;
    }
    out.emplace_back(v.as_string());
  }
  if (out.size() > chat::kMaxMentions) r.fail(violates("mentions", "at most 50 mentions"));
  return out;
}

void read_outgoing_message(ObjectReader& r, const json::object& body, chat::OutgoingMessage& msg) {
  auto text = r.string("text", false, 0, 1 << 20);
  auto attachments = read_attachments(r, body, msg.attachment_count);
  msg.parent_seq = r.integer("parent_seq", false, 1, kMaxSeq);
  msg.client_msg_id = r.string("client_msg_id", false, 1, 64);
  auto mentions = read_mentions(r, body);
  if (!text && !attachments) r.fail(invalid("text", "is required"));
  msg.text = text.value_or("");
  msg.attachments_json = attachments.value_or("[]");
  msg.mentions = mentions.value_or(std::vector<std::string>{});
}

}  // namespace parley::services
