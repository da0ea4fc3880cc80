#pragma once
// JSON shapes of the API's resources (see docs/api.md). Never includes secrets or hashes.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/token_service.hpp"
#include "store/types.hpp"

namespace parley::api {

boost::json::object to_json(const store::AppRecord& app);
boost::json::object to_json(const store::ApiKeyRecord& key);
boost::json::object to_json(const store::UserRecord& user);
boost::json::object to_json(const tenancy::AuditEntry& entry);
boost::json::object to_json(const auth::TokenPair& pair);

/// {"items": [...], "next_cursor": cursor or null}
boost::json::object page(boost::json::array items, const std::optional<std::string>& next_cursor);

/// A page from rows fetched with limit + 1: the extra row only tells that there is more, and
/// the cursor is the position of the last row shown.
template <class Row, class ToJson, class PositionOf>
boost::json::object page_of(const std::vector<Row>& rows, int limit, ToJson to_json, PositionOf position_of) {
  boost::json::array items;
  std::size_t shown = std::min(rows.size(), static_cast<std::size_t>(limit));
  for (std::size_t i = 0; i < shown; ++i) items.push_back(to_json(rows[i]));
  std::optional<std::string> next;
  if (rows.size() > shown && shown > 0) next = position_of(rows[shown - 1]);
  return page(std::move(items), next);
}

}  // namespace parley::api
